"""The staff's overrides in a real class run: applied to every report and export, kept over a
`--force` regrade, shown in changes.csv; a bad override stops the run before grading."""
import csv
import io
import json
import subprocess
import sys

from tests.autograder.batch.test_class_run import FAST_ITEMS, points_of, small_class
from tests.hostile import support

CONV = "conv_layers.conv_forward_naive.forward_secret"
POOL = "conv_layers.max_pool_forward_naive.forward"
OVERRIDES = (
    "student,item,points,delta,comment,grader\n"
    "student_broken,%s,4,,partial credit: the loops are right,TA Kim\n"
    "student_00,%s,,-100,=HYPERLINK(\"x\") copied,@TA Lee\n" % (CONV, POOL))


def results(grades, sid):
    return json.loads((grades / sid / "results.json").read_text())


def item_test(data, item):
    return next(t for t in data["tests"] if t["extra_data"]["item"] == item)


def rows_of(text):
    return {row[next(iter(row))]: row for row in csv.DictReader(io.StringIO(text))}


def test_overrides_reach_every_report_and_export_and_survive_a_forced_regrade(tmp_path):
    classroom, grades = tmp_path / "class", tmp_path / "grades"
    small_class(classroom, 2)
    total = points_of(FAST_ITEMS)
    first = support.grade_command(classroom, "--out", grades, "--items", FAST_ITEMS,
                                  "--jobs", "2", timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    broken_before = results(grades, "student_broken")["score"]
    assert item_test(results(grades, "student_broken"), CONV)["score"] == 0
    overrides = tmp_path / "overrides.csv"
    overrides.write_text(OVERRIDES)
    for run in range(2):   # both regrades under --force: the CSV is applied each time
        regrade = support.grade_command(classroom, "--out", grades, "--items", FAST_ITEMS,
                                        "--jobs", "2", "--force", "--overrides", overrides,
                                        timeout=600)
        assert regrade.returncode == 0, regrade.stderr[-2000:]
        assert "grading 3 of 3 submissions" in regrade.stderr
        broken = results(grades, "student_broken")
        conv = item_test(broken, CONV)
        assert conv["score"] == 4 and broken["score"] == broken_before + 4
        assert conv["extra_data"]["override"]["grader_score"] == 0   # the grader's own, kept
        assert conv["extra_data"]["override"]["grader"] == "TA Kim"
        line = ("Adjusted by TA Kim: partial credit: the loops are right (grader's score 0, "
                "now 4)")
        assert conv["output"].endswith(line)
        assert line in (grades / "student_broken" / "feedback.md").read_text()
        assert line.replace("'", "&#x27;") in (grades / "student_broken" /
                                               "feedback.html").read_text()
        pool = item_test(results(grades, "student_00"), POOL)
        assert pool["score"] == 0 and pool["extra_data"]["override"]["grader_score"] > 0
        assert "clamped to [0, " in pool["output"]
        assert results(grades, "student_00")["score"] == total - pool["max_score"]
        assert "override" not in item_test(results(grades, "student_01"), POOL)["extra_data"]
        if run == 0:
            changes = rows_of((grades / "changes.csv").read_text())
            assert "added %s: 0 -> 4 by TA Kim" % CONV in changes["student_broken"]["overrides"]
            assert "%s: 0 -> 4" % CONV in changes["student_broken"]["items_changed"]
            assert "(clamped)" in changes["student_00"]["overrides"]
            assert "student_01" not in changes
    gradebook_text = (grades / "gradebook.csv").read_text()
    gradebook = rows_of(gradebook_text)
    assert gradebook["student_broken"][CONV] == "4"
    assert gradebook["student_broken"]["total"] == "%g" % (broken_before + 4)
    assert "%s: 0 -> 4 by TA Kim" % CONV in gradebook["student_broken"]["overrides"]
    assert gradebook["student_00"][POOL] == "0"
    assert "by @TA Lee (clamped)" in gradebook["student_00"]["overrides"]
    assert "\n'=" not in gradebook_text and ",=" not in gradebook_text and ",@" not in \
        gradebook_text
    summary = (grades / "summary.md").read_text()
    assert "Overrides (2 submission(s)): `student_00` (" in summary
    assert "`student_broken` (conv\\_layers" in summary and "0 -\\> 4 by TA Kim" in summary
    report = (grades / "report.html").read_text()
    assert "%s: 0 -&gt; 4 by TA Kim" % CONV in report
    # a plain rerun regrades nothing; a changed row regrades that submission only
    same = support.grade_command(classroom, "--out", grades, "--items", FAST_ITEMS,
                                 "--overrides", overrides, timeout=600)
    assert "grading 0 of 3 submissions" in same.stderr, same.stderr[-2000:]
    overrides.write_text(OVERRIDES.replace(",4,,partial", ",5,,partial"))
    changed = support.grade_command(classroom, "--out", grades, "--items", FAST_ITEMS,
                                    "--overrides", overrides, timeout=600)
    assert "grading 1 of 3 submissions" in changed.stderr, changed.stderr[-2000:]
    assert item_test(results(grades, "student_broken"), CONV)["score"] == 5
    overrides.write_text(OVERRIDES)
    support.grade_command(classroom, "--out", grades, "--items", FAST_ITEMS,
                          "--overrides", overrides, timeout=600)

    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,submission\nBroken Bee,11,student_broken\n"
                      "Zero Zed,12,student_00\n")
    canvas = tmp_path / "canvas.csv"
    proc = subprocess.run([sys.executable, "-m", "autograder.export.canvas", str(grades),
                           "--roster", str(roster), "--out", str(canvas)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    exported = {row["Student"]: row for row in csv.DictReader(io.StringIO(canvas.read_text()))}
    assert exported["Broken Bee"]["CNN homework"] == "%g" % (broken_before + 4)
    assert exported["Zero Zed"]["CNN homework"] == "%g" % (total - pool["max_score"])

    from nbgrader.api import Gradebook
    db = tmp_path / "gradebook.db"
    proc = subprocess.run([sys.executable, "-m", "autograder.export.nbgrader_gradebook",
                           str(grades), "--db", str(db), "--assignment", "cnn"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    with Gradebook("sqlite:///%s" % db) as gb:
        grade = gb.find_grade(CONV, "autograder", "cnn", "student_broken")
        assert (grade.auto_score, grade.manual_score, grade.score) == (0, 4, 4)
        untouched = gb.find_grade(CONV, "autograder", "cnn", "student_01")
        assert untouched.manual_score is None and untouched.score == untouched.auto_score > 0


def test_a_bad_override_is_refused_before_anything_is_graded(tmp_path):
    classroom, grades = tmp_path / "class", tmp_path / "grades"
    small_class(classroom, 1)
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("submission,item,points,comment,grader\n"
                         "student_00,%s,3,ok,TA\n"
                         "studnet_01,%s,3,typo in the name,TA\n"
                         "student_00,conv_layers.no_such_item,1,typo in the item,TA\n"
                         % (CONV, CONV))
    proc = support.grade_command(classroom, "--out", grades, "--items", FAST_ITEMS,
                                 "--overrides", overrides, timeout=600)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "nothing was graded" in proc.stderr
    assert "row 3: no submission 'studnet_01'" in proc.stderr
    assert "row 4: no item 'conv_layers.no_such_item'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(grades.glob("*/results.json"))   # nothing was graded
    # one submission graded alone checks the items (the class's other ids are not known)
    alone = support.grade_command(classroom / "student_00", "--out", tmp_path / "one",
                                  "--items", FAST_ITEMS, "--overrides", overrides, timeout=600)
    assert alone.returncode == 2, alone.stderr[-2000:]
    assert "no item 'conv_layers.no_such_item'" in alone.stderr
    assert "studnet_01" not in alone.stderr
    assert not (tmp_path / "one" / "results.json").exists()
    overrides.write_text("submission,item,delta,comment,grader\n"
                         "student_00,%s,-1,late fix,TA\nstudent_99,%s,1,,TA\n" % (CONV, CONV))
    alone = support.grade_command(classroom / "student_00", "--out", tmp_path / "one",
                                  "--items", FAST_ITEMS, "--overrides", overrides, timeout=600)
    assert alone.returncode == 0, alone.stderr[-2000:]
    conv = item_test(results(tmp_path, "one"), CONV)
    assert conv["score"] == conv["max_score"] - 1
    assert "Adjusted by TA: late fix" in (tmp_path / "one" / "feedback.md").read_text()
