"""report.html: the class's plots and diagnoses, checked in a headless Chromium."""
import base64
import io
import re
import shutil
import subprocess

import numpy as np
import pytest

from autograder.report.class_report import class_stats, hints_of, write_class_report
from tests.autograder.report.class_fixtures import ITEMS, PAD_HINT, ROUTE_HINT, graded

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or \
    shutil.which("google-chrome")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="needs a headless Chromium")
IMAGE_CHECK = """<script>
window.addEventListener('load', function () {
  var images = Array.from(document.images);
  var good = images.filter(function (i) { return i.complete && i.naturalWidth > 100; });
  var marker = document.createElement('div');
  marker.id = 'image-check';
  marker.textContent = 'images ' + good.length + ' of ' + images.length + ' decoded';
  document.body.appendChild(marker);
});
</script>"""


@pytest.fixture
def report(tmp_path):
    grades = tmp_path / "grades"
    graded(grades, "a", [10, 20])
    graded(grades, "b", [0, 20], hints=[(0, PAD_HINT)])
    graded(grades, "c", [0, 5], hints=[(0, PAD_HINT), (1, ROUTE_HINT)])
    graded(grades, "d", [10, 0], hints=[(1, ROUTE_HINT)],
           late={"deadline": "2026-12-11T23:59:00-08:00", "extension": None,
                 "submitted_at": "2026-12-16T09:00:00+00:00", "late_hours": 97.0, "units": 5,
                 "unit": "day", "fraction": 0.5})
    path = write_class_report(str(grades), ["a", "b", "c", "d", "missing"])
    return grades, path


def test_statistics_per_item(report):
    grades, _ = report
    rows, stats = class_stats(str(grades), ["a", "b", "c", "d"])
    conv, pool = (stats[item] for item, _ in ITEMS)
    assert conv.pass_rate == 0.5 and conv.points_lost == 20
    assert pool.pass_rate == 0.5 and pool.points_lost == 35
    assert conv.hints.most_common() == [(PAD_HINT, 2)]
    assert pool.hints.most_common() == [(ROUTE_HINT, 2)]
    assert {row.id: row.total for row in rows}["d"] == 5  # after the late penalty


def test_hints_are_the_hint_lines_only():
    assert hints_of("1 of 3 cases passed.\nHint: one\nNote: two\nHint:  \nHint: three") == \
        ["one", "three"]


def test_page_content(report):
    _, path = report
    page = open(path).read()
    assert "4 of 5 submissions graded" in page
    assert PAD_HINT.split(":")[0] in page and "(2)" in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 4   # histogram, pass rate, points lost, diagnoses
    import matplotlib.image
    for data in images:
        pixels = matplotlib.image.imread(io.BytesIO(base64.b64decode(data)), format="png")
        assert pixels.shape[0] > 100 and pixels.shape[1] > 300
        assert pixels[..., :3].std() > 0.05   # not a blank image


def test_an_empty_class_still_gives_a_page(tmp_path):
    path = write_class_report(str(tmp_path), ["x"])
    assert "No graded submissions yet (1 expected)" in open(path).read()


@needs_chromium
def test_browser_loads_the_page_and_decodes_every_image(report, tmp_path):
    _, path = report
    checked = tmp_path / "checked.html"
    checked.write_text(open(path).read().replace("</body>", IMAGE_CHECK + "</body>"))
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--virtual-time-budget=10000", "--dump-dom", checked.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert 'id="image-check">images 4 of 4 decoded<' in proc.stdout, proc.stderr[-2000:]


@needs_chromium
def test_browser_screenshot_is_not_blank(report, tmp_path):
    _, path = report
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    "--screenshot=%s" % shot, "--window-size=1200,2000",
                    "file://%s" % path], capture_output=True, timeout=120)
    import matplotlib.image
    pixels = matplotlib.image.imread(str(shot))[..., :3]
    assert pixels.shape[:2] == (2000, 1200)
    not_white = np.any(pixels < 0.9, axis=2)
    assert not_white.mean() > 0.02
    # the pass-rate bars' green (#228833) is on screen: the plots rendered, not just text
    green = np.all(np.abs(pixels - np.array([0x22, 0x88, 0x33]) / 255) < 0.08, axis=2)
    assert green.sum() > 2000


def test_results_marked_for_review_are_listed_first(tmp_path):
    grades = tmp_path / "grades"
    graded(grades, "a", [10, 20])
    flagged = graded(grades, "b", [10, 20])
    flagged.extra["accuracy"] = {"needs_review": True,
                                 "review_reason": "the reference cannot rebuild <b>W4</b>"}
    from autograder.report import write_reports
    write_reports(flagged, str(grades / "b"))
    page = open(write_class_report(str(grades), ["a", "b"])).read()
    section = page[page.index('<h2 id="review">'):page.index('<h2 id="students">')]
    assert "To review (1)" in section
    assert '<a href="b/feedback.html">b</a>: the reference cannot rebuild &lt;b&gt;W4&lt;/b&gt;' \
        in section
    assert "a/feedback.html" not in section
    graded(grades, "b", [10, 20])  # the flag gone: no section
    assert 'id="review"' not in open(write_class_report(str(grades), ["a", "b"])).read()
