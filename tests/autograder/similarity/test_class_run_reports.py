"""A class run of the synthetic class: similarity, report.html, late penalties, Canvas, regrade.

One class run (fast items only) of the planted class under a spec with a late policy,
then a regrade under a changed spec; each test reads what those runs wrote.
"""
import csv
import json
import re
import subprocess
import sys

import pytest

from autograder.export.canvas import canvas_export, read_roster
from tests.autograder.report import test_class_report as browser
from tests.autograder.similarity import synthetic

FAST_ITEMS = "conv_layers.conv_forward_naive.forward_secret,conv_layers.max_pool_forward_naive.*"
DEADLINE = "2026-12-11T23:59:00-08:00"
# submitted_at per student: on time, 1 day and 3 days late (UTC)
LATE_DAYS = {"loops": 1, "copy_of_loops": 3}


def grade(classroom, grades, spec, *extra):
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(classroom),
                           "--out", str(grades), "--spec", str(spec), "--items", FAST_ITEMS,
                           "--jobs", "2"] + list(extra), capture_output=True, text=True,
                          cwd=str(synthetic.ROOT), timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def write_spec(path, per_day, conv_points=6):
    text = (synthetic.ROOT / "autograder" / "spec" / "grading.toml").read_text()
    text = text.replace('deadline = ""', 'deadline = "%s"' % DEADLINE)
    text = text.replace('submission_times = ""', 'submission_times = "times.csv"')
    text = text.replace("penalty_per_unit = 0.1", "penalty_per_unit = %g" % per_day)
    if conv_points != 6:  # move points between the secret conv forward and its backward
        blocks = text.split("[[item]]")
        for n, block in enumerate(blocks):
            if 'id = "conv_layers.conv_forward_naive.forward_secret"' in block:
                blocks[n] = block.replace("points = 6", "points = %d" % conv_points)
            if 'id = "conv_layers.conv_backward_naive.gradient"' in block:
                blocks[n] = block.replace("points = 12", "points = %d" % (18 - conv_points))
        text = "[[item]]".join(blocks)
    path.write_text(text)


@pytest.fixture(scope="module")
def class_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("classrun")
    folders, planted_code, planted_models = synthetic.make_class(root / "class")
    with open(root / "times.csv", "w") as f:
        f.write("submission,submitted_at\n")
        for sid in folders:
            f.write("%s,2026-12-%02dT07:00:00Z\n" % (sid, 12 + LATE_DAYS.get(sid, 0)))
    write_spec(root / "grading.toml", 0.1)
    grades = root / "grades"
    first = grade(root / "class", grades, root / "grading.toml")
    snapshot = {p.parent.name: json.loads(p.read_text()) for p in grades.glob("*/results.json")}
    gradebook = (grades / "gradebook.csv").read_text()
    write_spec(root / "grading.toml", 0.2, conv_points=7)
    second = grade(root / "class", grades, root / "grading.toml", "--force")
    return dict(root=root, grades=grades, folders=folders, planted_code=planted_code,
                planted_models=planted_models, first=first, second=second,
                first_results=snapshot, first_gradebook=gradebook)


def test_similarity_flags_exactly_the_planted_pairs(class_run):
    grades = class_run["grades"]
    with open(grades / "similarity.csv") as f:
        rows = list(csv.DictReader(f))
    flagged = {tuple(sorted((r["submission_a"], r["submission_b"]))) for r in rows
               if r["flagged"] == "1"}
    assert flagged == class_run["planted_code"]
    summary = (grades / "summary.md").read_text()
    assert summary.count("## Similar submissions") == 1
    for a, b in class_run["planted_code"]:
        assert "| `%s` | `%s` |" % (a, b) in summary
    for a, b in class_run["planted_models"]:
        assert "`%s` and `%s`" % tuple(sorted((a, b))) in summary
    assert "## Similar submissions" in class_run["first"].stdout


def test_report_html_loads_in_a_browser_with_every_image(class_run, tmp_path):
    page = (class_run["grades"] / "report.html").read_text()
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', page)) >= 3
    if browser.CHROMIUM is None:
        pytest.skip("needs a headless Chromium")
    checked = tmp_path / "checked.html"
    checked.write_text(page.replace("</body>", browser.IMAGE_CHECK + "</body>"))
    proc = subprocess.run([browser.CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--virtual-time-budget=10000", "--dump-dom", checked.as_uri()],
                          capture_output=True, text=True, timeout=120)
    found = re.search(r'id="image-check">images (\d+) of (\d+) decoded<', proc.stdout)
    assert found and found.group(1) == found.group(2) and int(found.group(2)) >= 3


def test_late_penalty_in_results_feedback_and_gradebook(class_run):
    results, grades = class_run["first_results"], class_run["grades"]
    loops = results["loops"]
    raw = loops["score"]
    assert raw > 0 and loops["extra_data"]["late"]["units"] == 1
    assert loops["extra_data"]["late"]["fraction"] == 0.1
    assert results["reference"]["extra_data"]["late"]["fraction"] == 0
    assert "Late: " in loops["output"] and "1 day late" in loops["output"]
    rows = {r["submission"]: r for r in csv.DictReader(class_run["first_gradebook"].splitlines())}
    assert float(rows["loops"]["raw_total"]) == raw
    assert float(rows["loops"]["total"]) == pytest.approx(raw * 0.9)
    assert float(rows["copy_of_loops"]["total"]) == pytest.approx(
        results["copy_of_loops"]["score"] * 0.7)
    assert float(rows["reference"]["total"]) == results["reference"]["score"]
    # the regrade's penalty (20% a day) is what the feedback shows now
    feedback = (grades / "loops" / "feedback.md").read_text()
    assert "1 day late, penalty 20%" in feedback
    assert "1 day late, penalty 20%" in (grades / "loops" / "feedback.html").read_text()


def test_canvas_export_matches_the_roster(class_run, tmp_path):
    grades = class_run["grades"]
    roster = tmp_path / "roster.csv"
    students = sorted(class_run["folders"])
    with open(roster, "w") as f:
        f.write("Student,ID,SIS User ID,SIS Login ID,Section,submission\n")
        for n, sid in enumerate(students[1:]):          # the first has no roster row
            f.write("Student %d,%d,S%d,login%d,L1,%s\n" % (n, 100 + n, n, n, sid))
        f.write("Absent Student,999,S999,absent,L1,\n")
    export = canvas_export(str(grades), read_roster(str(roster)))
    rows = list(csv.reader(export.csv_text.splitlines()))
    book = {r["submission"]: r["total"] for r in csv.DictReader(
        (grades / "gradebook.csv").read_text().splitlines())}
    for n, sid in enumerate(students[1:]):
        assert rows[2 + n][1] == str(100 + n) and rows[2 + n][-1] == book[sid]
    assert rows[-1][0] == "Absent Student" and rows[-1][-1] == ""
    assert export.not_in_roster == [students[0]]
    assert export.no_submission == ["Absent Student / 999 / S999 / absent"]


def test_regrade_writes_changes_before_nobody_is_silently_lowered(class_run):
    grades = class_run["grades"]
    with open(grades / "changes.csv") as f:
        changes = {r["submission"]: r for r in csv.DictReader(f)}
    before = class_run["first_results"]
    loops = changes["loops"]
    assert loops["lowered"] == "yes"            # 20% a day now instead of 10%
    assert "conv_layers.conv_forward_naive.forward_secret: 6 -> 7" in loops["items_changed"]
    assert float(loops["old_total"]) == pytest.approx(before["loops"]["score"] * 0.9)
    assert float(loops["new_total"]) == pytest.approx((before["loops"]["score"] + 1) * 0.8)
    assert "stubs_1" not in changes              # 0 before, 0 after
    assert "reference" in changes and changes["reference"]["lowered"] == ""
    assert not list(grades.glob("*/results.previous.json"))
    assert "regrade: " in class_run["second"].stdout
