"""report.html explains the class: a row per student linking to its feedback page, who lost
each item and the hints they got (counted), the similarity pairs, what to review; checked in
headless Chromium at 1200 px."""
import re
import subprocess
import urllib.parse

import numpy as np
import pytest

from autograder.checks.outcome import GroupResult
from autograder.report.class_report import write_class_report
from tests.autograder.report.class_fixtures import ITEMS, PAD_HINT, ROUTE_HINT, graded
from tests.autograder.report.test_class_report import CHROMIUM, needs_chromium

CONV, POOL = (item for item, _ in ITEMS)
STRIDE_HINT = "Use the stride when you place each window."
IDS = ["alice", "bob", "carol", "dave", "e+f@x"]
LATE = {"deadline": "2026-12-11T23:59:00-08:00", "extension": None,
        "submitted_at": "2026-12-14T09:00:00+00:00", "late_hours": 49.0, "units": 3,
        "unit": "day", "fraction": 0.3}
SIMILARITY_CSV = (
    "submission_a,submission_b,similarity_a_in_b,similarity_b_in_a,shared_tokens_a,"
    "shared_tokens_b,shared_lines_a,shared_lines_b,flagged\n"
    "bob,carol,0.910,0.870,400,390,60,58,1\n"
    "alice,dave,0.300,0.280,120,110,20,18,0\n"
    "ghost,alice,0.990,0.990,500,500,80,80,1\n")   # not in this class: left out


def stride_group(earned):
    return GroupResult("strided", 0.5, 5.0, earned, 1, 3, "failed", hint=STRIDE_HINT)


@pytest.fixture
def report(tmp_path):
    grades = tmp_path / "grades"
    graded(grades, "alice", [10, 20])
    graded(grades, "bob", [0, 20], hints=[(0, PAD_HINT)])
    # the group hint is the only diagnosis carol's conv item has: it is counted too
    graded(grades, "carol", [5, 5], hints=[(1, ROUTE_HINT)], groups=[(0, stride_group(0))])
    graded(grades, "dave", [0, 0], hints=[(0, PAD_HINT)], late=LATE,
           overrides=[{"item": POOL, "points": 15, "delta": None, "comment": "regrade request",
                       "grader": "TA Kim"}])
    graded(grades, "e+f@x", [10, 0])      # lost the pool item with no hint at all
    (grades / "similarity.csv").write_text(SIMILARITY_CSV)
    (grades / "similarity.html").write_text("<html><body>pairs</body></html>")
    return grades, write_class_report(str(grades), IDS)


def student_row(page, sid):
    match = re.search(r'<tr id="student-%s">(.*?)</tr>' % re.escape(sid), page, re.S)
    assert match, "no row for %s" % sid
    return match.group(1)


def item_row(page, item):
    section = page[page.index('<h2 id="items">'):]
    match = re.search(r"<tr><td><code>%s</code>(.*?)</tr>" % re.escape(item), section, re.S)
    assert match, "no row for %s" % item
    return match.group(1)


def test_a_row_per_student_with_score_late_penalty_override_and_flags(report):
    _, path = report
    page = open(path).read()
    for sid in IDS:
        row = student_row(page, sid)
        href = re.search(r'href="([^"]+)"', row).group(1)
        assert urllib.parse.unquote(href) == "%s/feedback.html" % sid
    dave = student_row(page, "dave")
    # the override counts before the late penalty: (0 + 15) * (1 - 0.3)
    assert "10.5 / 30" in dave and "-4.5 (3 days late)" in dave
    assert "%s: 0 -&gt; 15 by TA Kim" % POOL in dave
    assert "similar to" in student_row(page, "bob") and 'href="carol/feedback.html"' in \
        student_row(page, "bob")
    assert "similar to" not in student_row(page, "alice")   # a listed pair, not flagged


def test_each_item_lists_who_lost_it_and_counts_the_hints_they_got(report):
    _, path = report
    page = open(path).read()
    conv = item_row(page, CONV)
    assert re.findall(r'href="([^"]+)/feedback.html"', conv) == ["bob", "carol", "dave"]
    assert "%s (2)" % PAD_HINT.replace("'", "&#x27;") in conv
    assert "strided: %s (1)" % STRIDE_HINT in conv
    assert "none" not in conv
    pool = item_row(page, POOL)
    # dave's overridden 15 / 20 still lost points; e+f@x got no hint
    assert "carol" in pool and "dave" in pool and "e%2Bf%40x" in pool
    assert "%s (1)" % ROUTE_HINT in pool and "no hint given (2)" in pool


def test_similarity_pairs_and_what_to_review(report):
    _, path = report
    page = open(path).read()
    section = page[page.index('<h2 id="similarity">'):page.index("<h2>Score histogram")]
    assert "Similar submissions (1 flagged)" in section and 'href="similarity.html"' in section
    assert section.index("bob") < section.index("91%") < section.index("87%")
    assert "dave" in section and "ghost" not in page
    review = page[page.index('<h2 id="review">'):page.index('<h2 id="students">')]
    assert re.search(r"bob</a> and <a[^>]*>carol</a>: similar code", review)
    assert "item <code>%s</code>: overridden by the staff for 1 submission(s)" % POOL in review


def test_without_a_similarity_report_there_is_no_similarity_section(report):
    grades, _ = report
    (grades / "similarity.csv").unlink()
    page = open(write_class_report(str(grades), IDS)).read()
    assert 'id="similarity"' not in page and "similar to" not in page


LAYOUT_CHECK = """<script>
window.addEventListener('load', function () {
  // a cell whose text lies on more than one line has wrapped
  var wrapped = Array.from(document.querySelectorAll('td.num, td.nowrap')).filter(
    function (cell) {
      var range = document.createRange();
      range.selectNodeContents(cell);
      var tops = new Set(Array.from(range.getClientRects()).map(
        function (r) { return Math.round(r.top); }));
      return tops.size > 1;
    });
  var links = Array.from(document.querySelectorAll('#students ~ table a')).map(
    function (a) { return a.href; });
  var marker = document.createElement('pre');
  marker.id = 'layout-check';
  marker.textContent = 'width ' + document.documentElement.scrollWidth + '\\nwrapped ' +
    wrapped.length + '\\ncells ' + document.querySelectorAll('td.num, td.nowrap').length +
    '\\n' + links.join('\\n');
  document.body.appendChild(marker);
});
</script>"""


def dump_dom(url):
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--window-size=1200,2000", "--virtual-time-budget=10000",
                           "--dump-dom", url], capture_output=True, text=True, timeout=120)
    return proc.stdout


@needs_chromium
def test_in_chromium_every_student_link_opens_its_feedback_and_no_cell_wraps(report):
    grades, path = report
    # checked beside report.html, so its relative links resolve as they do from disk
    checked = grades / "report-checked.html"
    checked.write_text(open(path).read().replace("</body>", LAYOUT_CHECK + "</body>"))
    dom = dump_dom(checked.as_uri())
    check = re.search(r'<pre id="layout-check">(.*?)</pre>', dom, re.S)
    assert check, dom[-2000:]
    lines = check.group(1).splitlines()
    assert int(lines[0].split()[1]) <= 1200           # nothing wider than the window
    assert lines[1] == "wrapped 0", lines
    assert int(lines[2].split()[1]) >= 3 * len(IDS)    # the score, late and name cells counted
    links = [link for link in lines[3:] if link.endswith("/feedback.html")]
    assert len(links) >= len(IDS)
    for sid in IDS:
        link = next(link for link in links
                    if urllib.parse.unquote(link) == (grades / sid / "feedback.html").as_uri()
                    or urllib.parse.unquote(link).endswith("/grades/%s/feedback.html" % sid))
        assert "Grading report: %s" % sid in dump_dom(link)   # Chromium opens that page


@needs_chromium
def test_screenshot_at_1200_px_shows_the_tables(report, tmp_path):
    _, path = report
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    "--screenshot=%s" % shot, "--window-size=1200,1400",
                    "file://%s" % path], capture_output=True, timeout=120)
    import matplotlib.image
    pixels = matplotlib.image.imread(str(shot))[..., :3]
    assert pixels.shape[:2] == (1400, 1200)
    # text and table borders in the first screen (the students table comes before the plots)
    assert np.any(pixels < 0.6, axis=2).mean() > 0.01
    # the students' links (Chromium's link blue) are in the first 600 px, one per line: the
    # rows of blue pixels form one band per link, as many as there are student rows at least
    blue = np.all(np.abs(pixels[:600] - np.array([0, 0, 238]) / 255) < 0.1, axis=2)
    rows = np.flatnonzero(blue.any(axis=1))
    bands = 1 + int(np.sum(np.diff(rows) > 3)) if rows.size else 0
    assert bands >= len(IDS)
