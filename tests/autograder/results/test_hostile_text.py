"""Text from a submission in the reports: capped with a marker, valid UTF-8, never live markup."""
import json
import os
from html.parser import HTMLParser

from autograder.report import FEEDBACK_HTML, FEEDBACK_MD, write_reports
from autograder.results.store import RESULTS_FILE
from autograder.results import text
from autograder.report.feedback import html_page, markdown, summary
from autograder.results.schema import dumps, validate
from autograder.results.model import GradeResult, ItemResult

INJECTION = "<script>alert(1)</script>\n# Heading"


def result_with(output="", problems=(), notes=(), name="alice", items=1):
    return GradeResult(
        submission=name,
        items=[ItemResult("layers.softmax_loss.loss.%d" % i, "layers.softmax_loss.loss.%d" % i,
                          0.0, 2.0, False, output, "visible", "forward_value", 0.1)
               for i in range(items)],
        problems=list(problems), notes=list(notes), seed=1, execution_time=1.0)


class Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def tags_of(page):
    parser = Elements()
    parser.feed(page)
    return parser.tags


def test_a_40_mb_output_is_cut_with_a_marker_in_every_report(tmp_path):
    huge = "ValueError: " + "x" * 40_000_000
    write_reports(result_with(output=huge), str(tmp_path))
    for name in (RESULTS_FILE, FEEDBACK_MD, FEEDBACK_HTML):
        assert os.path.getsize(tmp_path / name) < 200_000, name
    data = json.loads((tmp_path / RESULTS_FILE).read_text())
    output = data["tests"][0]["output"]
    assert output.startswith("ValueError: xxx")
    assert output.endswith("... (cut: %d characters)" % (len(huge) - 64 * 1024))


def test_the_whole_report_is_bounded_however_many_items_and_notes(tmp_path):
    result = result_with(output="y" * 100_000, problems=["p" * 10_000] * 500,
                         notes=["n" * 10_000] * 5000, items=40)
    write_reports(result, str(tmp_path))
    data = json.loads((tmp_path / RESULTS_FILE).read_text())
    assert validate(data) == []
    assert os.path.getsize(tmp_path / RESULTS_FILE) < 2_000_000
    assert sum(len(t["output"]) for t in data["tests"]) < 600_000
    assert "... and 4950 more notes (cut)" in data["output"]
    assert "... (cut: 5904 characters)" in data["output"]        # 10,000 - 4 KB


def test_markup_in_a_problem_is_not_live_markdown():
    page = markdown(result_with(problems=["notebook CNN.ipynb is not a valid notebook (%r)"
                                          % INJECTION, INJECTION]))
    lines = page.splitlines()
    assert not any(line.startswith("# Heading") for line in lines)
    assert "<script>" not in page
    assert "\\<script\\>" in page


def test_an_output_cannot_close_its_code_fence():
    page = markdown(result_with(output="```\n" + INJECTION + "\n````\n[x](javascript:alert(1))"))
    fence_lines = [line for line in page.splitlines() if line.startswith("`")]
    # the block's own fence is longer than any run of backticks inside it
    assert fence_lines[0] == "`````" and fence_lines[-1] == "`````"
    block = page.split("`````\n", 1)[1].rsplit("\n`````", 1)[0]
    assert block.startswith("```\n<script>")


def test_feedback_html_holds_no_student_element():
    result = result_with(output=INJECTION, problems=[INJECTION], notes=[INJECTION],
                         name="<img src=x onerror=alert(1)>")
    tags = tags_of(html_page(result))
    assert "script" not in tags and "img" not in tags
    assert set(tags) <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p",
                         "strong", "ul", "li", "table", "tr", "th", "td", "code", "pre", "em",
                         "a", "span", "br", "wbr"}   # the report's own links, status, breaks


def test_undecodable_and_control_characters_become_visible_escapes(tmp_path):
    name = os.fsdecode(b"stud\xffent\n\x1b[31mred")
    result = result_with(name=name, output="bell\x07 and\r return", notes=[name])
    write_reports(result, str(tmp_path))         # valid UTF-8: no UnicodeEncodeError
    data = json.loads((tmp_path / RESULTS_FILE).read_bytes().decode("utf-8"))
    assert data["extra_data"]["submission"] == "stud\\xffent\\n\\x1b[31mred"
    assert data["tests"][0]["output"] == "bell\\x07 and\\r return"
    md = (tmp_path / FEEDBACK_MD).read_bytes().decode("utf-8")
    assert md.splitlines()[0] == "# Grading report: stud\\\\xffent\\\\n\\\\x1b\\[31mred"
    screen = summary(result)
    assert "\x1b" not in screen and "\udcff" not in screen


def test_a_very_long_name_is_cut():
    shown = text.display_name("n" * 100_000)
    assert len(shown) < 300 and shown.endswith("... (cut: %d characters)" % (100_000 - 200))


def test_ordinary_text_is_left_as_it_is():
    result = result_with(output="Case 1 of 3 (shape (2, 3)):\n  relative error 1e-3", name="bob")
    bounded = text.bounded(result)
    assert bounded == result
    assert text.bounded(bounded) == bounded
