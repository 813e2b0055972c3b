"""What feedback.md/.html say about each item: the section and function it grades, the
scoring rule with the count of passed cases, the inputs it was graded on, the accuracy
rule with the numbers, the hidden label before publication only, failed items first,
and the pictures (written beside feedback.md, inlined in feedback.html)."""
import base64
import json
import html
import os
import re

import numpy as np

from autograder.checks.compare import difference
from autograder.report import write_reports
from autograder.report.facts import accuracy_facts, item_facts
from autograder.report.feedback import html_page, markdown, summary
from autograder.results.model import GradeResult, ItemResult
from autograder.spec import load_spec

SPEC = load_spec()
CONV = SPEC.item("conv_layers.conv_forward_naive.forward")
CONV_SECRET = SPEC.item("conv_layers.conv_forward_naive.forward_secret")
ACCURACY = SPEC.item("cnn.ThreeLayerConvNet.accuracy")


def border_difference():
    expected = np.random.default_rng(1).normal(size=(2, 3, 5, 5))
    actual = expected.copy()
    actual[:, :, 0, :] += 1.0
    actual[:, :, :, -1] += 1.0
    return difference(actual, expected, 1e-7, 1e-6, case="odd 5x5 input")


def item(spec_item, score, passed, output="", **facts):
    fields = dict(item_facts(spec_item), **facts)
    return ItemResult(spec_item.id, spec_item.id, score, float(spec_item.points), passed, output,
                      "visible" if spec_item.visibility == "visible" else "after_published",
                      spec_item.kind, 0.1, **fields)


def accuracy_item(val=0.62, heldout=0.50, **extra):
    facts = accuracy_facts(ACCURACY, dict({"val": val, "heldout": heldout}, **extra))
    # 20 * (min(0.62, 0.50 + 0.10) - 0.40) / (0.65 - 0.40) = 16, worked out by hand
    return item(ACCURACY, 16.0, False, "validation accuracy 62.0%, held-out accuracy 50.0%",
                accuracy=facts)


def result(with_picture=True):
    conv_secret = item(CONV_SECRET, 0.0, False,
                       "2 of 6 cases passed: this item needs all cases.\nCase 3 of 6 (odd):\n"
                       "    out differs from the expected values", cases_total=6, cases_passed=2,
                       differences={"out": border_difference()} if with_picture else {})
    conv = item(CONV, 3.0, True, "", cases_total=2, cases_passed=2)
    return GradeResult(submission="bob", items=[conv, conv_secret, accuracy_item()])


def test_each_item_names_its_section_and_function():
    page, text = html_page(result()), markdown(result())
    assert CONV.section == "CNN-Layers.ipynb: Convolution: naive forward pass"
    assert "nndl.conv_layers.conv_forward_naive" in page
    assert html.escape(CONV.section) in page
    assert "nndl.conv\\_layers.conv\\_forward\\_naive (CNN-Layers.ipynb: Convolution: naive " \
           "forward pass)" in text
    assert "look at: nndl.conv_layers.conv_forward_naive (CNN-Layers.ipynb" in summary(result())


def test_every_spec_item_has_a_section_from_a_real_notebook_heading():
    from pathlib import Path
    root = Path(__file__).resolve().parents[3] / "assignment"
    headings = {}
    for notebook in root.glob("*.ipynb"):
        cells = json.loads(notebook.read_text())["cells"]
        headings[notebook.name] = {line.lstrip("#").strip() for cell in cells
                                   if cell["cell_type"] == "markdown"
                                   for line in "".join(cell["source"]).splitlines()
                                   if line.startswith("#")}
    for spec_item in SPEC.items:
        assert spec_item.section, spec_item.id
        name, _, heading = spec_item.section.partition(": ")
        if name in headings:   # the layers.py items come from the previous homework
            # the heading, or the heading and a remark in parentheses
            assert heading in headings[name] or heading.split(" (")[0] in headings[name], \
                spec_item.section


def test_all_or_nothing_says_so_with_the_count_in_md_and_html():
    line = "2 of 6 cases passed; this item gives points only when all pass."
    text, page = markdown(result()), html_page(result())
    assert line in text.replace("\\", "") and line in page
    # the checks' terse version of the same line is not repeated
    assert "this item needs all cases" not in text + page


def test_per_case_items_state_their_share():
    per_case = item(CONV_SECRET, 2.0, False, "", cases_total=6, cases_passed=2,
                    scoring="per_case")
    text = markdown(GradeResult(submission="s", items=[per_case]))
    assert "2 of 6 cases passed; this item gives its points per case passed (2/6 of 6)." in text


def test_visible_items_say_they_are_graded_on_new_inputs():
    failing_visible = item(CONV, 0.0, False, "Failed.", cases_total=2, cases_passed=0)
    text = markdown(GradeResult(submission="s", items=[failing_visible]))
    assert "Graded on new inputs of the same shapes as the notebook's" in text
    assert "None of the 2 cases passed; this item gives points only when all pass." in text
    assert "Graded on secret inputs" in markdown(result())


def test_the_accuracy_rule_with_the_numbers_and_the_evaluation():
    text = markdown(result()).replace("\\", "")
    assert "Credited accuracy = min(validation 62.0%, held-out 50.0% + margin 10%) = 60.0%." in text
    assert "Rule: full credit at 65% or more, none at 40% or less, linear between: 16 / 20" in text
    assert "Held-out evaluation" not in text          # absent key: nothing rendered
    trusted = accuracy_item(heldout_evaluation="trusted", credited=0.6)
    text = markdown(GradeResult(submission="s", items=[trusted]))
    assert "Held-out evaluation: the held-out images were classified by the course's own" in text


def test_hidden_label_before_publication_only():
    before, after = markdown(result()), markdown(result(), published=True)
    assert "hidden until grades are published" in before
    assert "hidden until grades are published" in html_page(result())
    assert "hidden until grades are published" not in after + html_page(result(),
                                                                        published=True)
    assert "Graded on secret inputs" in after   # the rest stays


def test_html_lists_failed_items_first_links_them_and_heads_them_with_points():
    page = html_page(result())
    headings = re.findall(r'<h3 id="([^"]+)"><code>([^<]+)</code> - ([^<]+) <span', page)
    assert [h[1] for h in headings] == [CONV_SECRET.id, ACCURACY.id]   # the passed one has no details
    assert headings[0][2] == "0 / 6" and headings[1][2] == "16 / 20"
    for anchor, _, _ in headings:
        assert 'href="#%s"' % anchor in page
    text = markdown(result())
    assert text.index("### `%s` - 0 / 6" % CONV_SECRET.id) < text.index("### `%s` - 16 / 20"
                                                                          % ACCURACY.id)


def test_pictures_are_written_beside_feedback_md_and_inlined_in_html(tmp_path):
    write_reports(result(), tmp_path)
    pngs = sorted(p for p in os.listdir(tmp_path) if p.endswith(".png"))
    assert pngs == ["feedback-%s-out.png" % CONV_SECRET.id]
    png = (tmp_path / pngs[0]).read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    text = (tmp_path / "feedback.md").read_text()
    assert "](%s)" % pngs[0] in text and "only the border differs: check the padding" in text
    page = (tmp_path / "feedback.html").read_text()
    assert base64.b64encode(png).decode() in page
    # regraded without the bug: the old picture goes, nothing else does
    write_reports(result(with_picture=False), tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["feedback.html", "feedback.md", "results.json"]


def test_a_link_where_a_picture_goes_is_replaced_not_followed(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(outside, out / ("feedback-%s-out.png" % CONV_SECRET.id))
    os.symlink(outside, out / "feedback-stale.png")
    write_reports(result(), out)
    assert outside.read_text() == "keep me"
    assert not os.path.islink(out / ("feedback-%s-out.png" % CONV_SECRET.id))
    assert not os.path.lexists(out / "feedback-stale.png")


def test_accuracy_per_class_chart_only_when_the_grader_gives_it(tmp_path):
    write_reports(GradeResult(submission="s", items=[accuracy_item()]), tmp_path / "a")
    assert not any(p.endswith(".png") for p in os.listdir(tmp_path / "a"))
    names = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    with_classes = accuracy_item(per_class_val=[0.6] * 10, class_names=names)
    write_reports(GradeResult(submission="s", items=[with_classes]), tmp_path / "b")
    assert os.listdir(tmp_path / "b").count("feedback-%s-per-class.png" % ACCURACY.id) == 1
    assert "validation accuracy per class" in (tmp_path / "b" / "feedback.html").read_text()


def test_grade_published_flag_reaches_the_feedback(tmp_path):
    """`grade --published` is how publication is signalled: the hidden label goes."""
    import subprocess
    import sys
    from tests.autograder.grade.helpers import reference_submission
    submission = reference_submission(tmp_path / "sub")
    pages = {}
    for flag in ((), ("--published",)):
        out = tmp_path / ("out%d" % len(flag))
        proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submission),
                               "--out", str(out), "--items", "layers.softmax_loss.loss",
                               "--seed", "1", *flag], capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        pages[flag] = (out / "feedback.md").read_text() + (out / "feedback.html").read_text()
        data = json.loads((out / "results.json").read_text())
        assert data["tests"][0]["visibility"] == "after_published"   # Gradescope's, unchanged
    assert "hidden until grades are published" in pages[()]
    assert "hidden until grades are published" not in pages[("--published",)]


def judged_accuracy(val_right, heldout_right, trusted=True):
    """The accuracy item as the grader makes it: the real check judges predictions that are
    right on the first `val_right` of 100 validation and `heldout_right` of 100 held-out
    images (the trusted evaluation agrees with the student's code when `trusted`)."""
    from autograder.checks import judge_all
    labels = np.arange(100) % 10
    case = {"y.val": labels, "y.heldout": labels}
    student = {"pred.val": np.where(np.arange(100) < val_right, labels, (labels + 1) % 10),
               "pred.heldout": np.where(np.arange(100) < heldout_right, labels, (labels + 1) % 10)}
    trusted_obs = dict(student) if trusted else {"problem": "the weights do not fit"}
    verdict = judge_all(ACCURACY, [case], [student], [trusted_obs])
    return ItemResult(ACCURACY.id, ACCURACY.id, verdict.score,
                      float(ACCURACY.points), verdict.passed, verdict.output, "visible",
                      "accuracy", 0.1, **item_facts(ACCURACY, verdict))


def test_each_accuracy_explanation_is_given_once():
    """The facts state the numbers, the rule and how the held-out images were classified;
    the check's own lines saying the same are not repeated under them (passed or failed,
    trusted or the student's code)."""
    for val, heldout, trusted in ((70, 68, True), (55, 50, True), (60, 40, True),
                                  (55, 50, False)):
        judged = judged_accuracy(val, heldout, trusted)
        assert "validation accuracy %d.0%%" % val in judged.output   # the check says it too
        for page in (markdown(GradeResult(submission="s", items=[judged])),
                     html_page(GradeResult(submission="s", items=[judged]))):
            text = html.unescape(page).replace("\\", "").lower()
            assert text.count("validation %d.0%%" % val) == 1, (val, heldout, trusted, text)
            assert "validation accuracy %d.0%%" % val not in text
            assert "(no message)" not in text
            assert text.count("full credit at") == 1
            assert text.count("classified by") == 1
        if not trusted:
            assert "because the course's reference threelayerconvnet cannot evaluate" in text
            assert "the course staff will review this result" in text
        if heldout + 10 < val:    # the check's hint is not in the facts: it stays
            assert "may be tuned to the validation images" in text


def test_the_feedback_names_the_held_out_images_it_was_scored_on():
    from autograder.grade import run_accuracy
    from autograder.report.facts import HELDOUT_SOURCES
    assert HELDOUT_SOURCES == (run_accuracy.HELDOUT_PRIVATE, run_accuracy.HELDOUT_PUBLIC)   # one vocabulary
    private = markdown(GradeResult(submission="s", items=[
        accuracy_item(heldout_source=run_accuracy.HELDOUT_PRIVATE)]))
    public = markdown(GradeResult(submission="s", items=[
        accuracy_item(heldout_source=run_accuracy.HELDOUT_PUBLIC)]))
    assert "the course's own labelled images, never published" in private
    assert "moved slightly" not in private
    assert "CIFAR-10 images your model has not seen, moved slightly" in public
