"""feedback.html as a student sees it: loaded in headless Chromium, with text on screen,
nothing wider than a 1200 px window, and no script of the student's running."""
import subprocess

import numpy as np

from autograder.report import write_reports
from tests.autograder.report.test_class_report import CHROMIUM, needs_chromium
from tests.autograder.report.test_report import sample

LAYOUT_CHECK = """<script>
window.addEventListener('load', function () {
  var marker = document.createElement('div');
  marker.id = 'layout-check';
  marker.textContent = 'width ' + document.documentElement.scrollWidth + ' alerts ' +
      (window.__alerts || 0);
  document.body.appendChild(marker);
});
</script>"""


def dumped_dom(page, tmp_path, script):
    """The DOM of `page` after load, with `script` appended to its body (1200 px window)."""
    checked = tmp_path / "checked.html"
    checked.write_text(page.read_text().replace("</body>", script + "</body>"))
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--window-size=1200,2000", "--virtual-time-budget=5000",
                           "--dump-dom", checked.as_uri()],
                          capture_output=True, text=True, timeout=120)
    return proc.stdout


def screenshot(page, tmp_path, height):
    """The page's pixels (height x 1200 x RGB, floats in [0, 1]) as headless Chromium shows it."""
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    "--screenshot=%s" % shot, "--window-size=1200,%d" % height, page.as_uri()],
                   capture_output=True, timeout=120)
    import matplotlib.image
    pixels = matplotlib.image.imread(str(shot))[..., :3]
    assert pixels.shape[:2] == (height, 1200)
    assert np.any(pixels < 0.6, axis=2).mean() > 0.005   # text on screen
    return pixels


def feedback_page(tmp_path):
    result = sample(score_a=0.0, output_b="<script>window.__alerts = 1</script>" + " x" * 3000
                    + "\n" + "a_very_long_unbroken_token_" * 200)
    write_reports(result, tmp_path / "out")
    return tmp_path / "out" / "feedback.html"


@needs_chromium
def test_feedback_page_fits_the_window_and_runs_no_student_script(tmp_path):
    dom = dumped_dom(feedback_page(tmp_path), tmp_path, LAYOUT_CHECK)
    marker = dom.split('id="layout-check">', 1)[-1].split("<", 1)[0]
    width, alerts = int(marker.split()[1]), int(marker.split()[3])
    assert width <= 1200, marker
    assert alerts == 0
    assert "cnn.ThreeLayerConvNet.accuracy" in dom


@needs_chromium
def test_feedback_screenshot_is_not_blank(tmp_path):
    screenshot(feedback_page(tmp_path), tmp_path, 1600)


IMAGE_CHECK = """<script>
window.addEventListener('load', function () {
  var images = Array.prototype.slice.call(document.images);
  var decoded = images.filter(function (img) { return img.complete && img.naturalWidth > 0; });
  var widest = 0;
  document.querySelectorAll('body *').forEach(function (el) {
    widest = Math.max(widest, el.getBoundingClientRect().right);
  });
  var marker = document.createElement('div');
  marker.id = 'image-check';
  marker.textContent = 'images ' + images.length + ' decoded ' + decoded.length + ' width ' +
      document.documentElement.scrollWidth + ' right ' + Math.ceil(widest);
  document.body.appendChild(marker);
});
</script>"""


def page_with_pictures(tmp_path):
    """A report with a difference picture and a per-class accuracy chart, beside the hostile
    long output of feedback_page."""
    from tests.autograder.report.test_feedback_items import accuracy_item, result
    graded = result()
    names = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    graded.items[-1] = accuracy_item(per_class_val=list(np.linspace(0.3, 0.8, 10)),
                                     class_names=names)
    graded.items += sample(score_a=0.0, output_b="a_very_long_unbroken_token_" * 200).items
    write_reports(graded, tmp_path / "out")
    return tmp_path / "out" / "feedback.html"


@needs_chromium
def test_feedback_pictures_decode_and_fit_the_window(tmp_path):
    dom = dumped_dom(page_with_pictures(tmp_path), tmp_path, IMAGE_CHECK)
    marker = dom.split('id="image-check">', 1)[-1].split("<", 1)[0].split()
    counts = dict(zip(marker[0::2], (int(v) for v in marker[1::2])))
    assert counts["images"] == 2 and counts["decoded"] == 2, marker
    assert counts["width"] <= 1200 and counts["right"] <= 1200, marker


@needs_chromium
def test_feedback_with_pictures_screenshot_is_not_blank(tmp_path):
    pixels = screenshot(page_with_pictures(tmp_path), tmp_path, 3000)
    # the pictures' colours (the magma map, the bars' blue) are on screen, not only text
    colourful = (pixels.max(axis=2) - pixels.min(axis=2)) > 0.25
    assert colourful.mean() > 0.002


@needs_chromium
def test_a_failed_item_shows_its_case_groups_as_a_table(tmp_path):
    from autograder.checks.outcome import GroupResult
    result = sample(score_a=11.0)
    item = result.items[0]
    item.max_score = 12.0
    item.output = ("Case groups (the item's points split across them; a group earns its share "
                   "when all its cases pass):\n  core: 8/8 points, 3 of 3 cases passed (passed)\n"
                   "  no_padding: 0/4 points, 0 of 2 cases passed (failed)\n"
                   "Group no_padding failed: it cost 4 of the item's 12 points. dx is empty")
    item.groups = [GroupResult("core", 2 / 3, 8.0, 8.0, 3, 3, "passed"),
                   GroupResult("no_padding", 1 / 3, 4.0, 0.0, 0, 2, "failed")]
    item.score, item.passed, item.status = 8.0, False, "failed"
    write_reports(result, tmp_path / "out")
    dom = dumped_dom(tmp_path / "out" / "feedback.html", tmp_path, LAYOUT_CHECK)
    table = dom.split('<table class="groups">', 1)[1].split("</table>", 1)[0]
    assert "<td>no_padding</td><td>0 / 4</td><td>0 of 2</td><td class=\"failed\">failed</td>" in table
    assert "<td>core</td><td>8 / 8</td>" in table
    details = dom.split("</table>", 2)[-1]
    assert "Group no_padding failed: it cost 4 of the item's 12 points" in details
    assert "  core: 8/8 points" not in details   # the table says it; the text does not repeat it


NO_WRAP_CHECK = """<script>
window.addEventListener('load', function () {
  // a cell's text wraps when a Range over it spans more than one line box
  var wrapped = [];
  document.querySelectorAll('td.points, td.status, span.status').forEach(function (el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var tops = {};
    Array.prototype.forEach.call(range.getClientRects(), function (r) {
      if (r.width > 0) { tops[Math.round(r.top)] = 1; }
    });
    if (Object.keys(tops).length > 1) { wrapped.push(el.textContent); }
  });
  var marker = document.createElement('div');
  marker.id = 'wrap-check';
  marker.textContent = 'cells ' +
      document.querySelectorAll('td.points, td.status, span.status').length +
      ' wrapped [' + wrapped.join('|') + ']';
  document.body.appendChild(marker);
});
</script>"""


def every_item_result():
    """One result with every item of the spec, alternately passed and failed, with the
    spec's real sections and function names (the longest texts the items table shows)."""
    from autograder.report.facts import item_facts
    from autograder.results.model import GradeResult, ItemResult
    from autograder.spec import load_spec
    items = []
    for index, item in enumerate(load_spec().items):
        passed = index % 2 == 0
        score = float(item.points) if passed else float(item.points) / 3
        items.append(ItemResult(item.id, item.id, score, float(item.points), passed,
                                "" if passed else "Case 1 of 2 (odd sizes):\n  out differs",
                                "visible", item.kind, 0.1, **item_facts(item)))
    return GradeResult(submission="a_student_with_a_long_name@university.example.edu",
                       items=items)


@needs_chromium
def test_points_and_status_never_wrap_at_1200_px(tmp_path):
    write_reports(every_item_result(), tmp_path / "out")
    dom = dumped_dom(tmp_path / "out" / "feedback.html", tmp_path, NO_WRAP_CHECK)
    marker = dom.split('id="wrap-check">', 1)[-1].split("<", 1)[0]
    cells = int(marker.split()[1])
    assert cells >= 2 * len(every_item_result().items), marker   # points and status per row
    assert marker.endswith("wrapped []"), marker


def test_the_items_that_lost_points_come_first():
    """Before the items table: each item that lost points, what it lost and its headline,
    linked to its details; none when everything passed."""
    import html as html_module
    from autograder.report.feedback import html_page, markdown
    result = every_item_result()
    lost = [item for item in result.items if not item.passed]
    for page in (markdown(result), html_page(result)):
        text = html_module.unescape(page)
        summary_at, table_at = text.index("What lost points"), text.index("Items")
        assert summary_at < table_at
        first_part = text[summary_at:table_at]
        for item in lost:
            assert item.item_id in first_part
        assert first_part.count("out differs") == len(lost)
        assert "lost %s of %s" % (("%g" % round(lost[0].max_score - lost[0].score, 2)),
                                  "%g" % lost[0].max_score) in first_part
    for item in lost:   # passed now: nothing is listed
        item.passed, item.score, item.status = True, item.max_score, "passed"
    assert "What lost points" not in markdown(result) + html_page(result)
