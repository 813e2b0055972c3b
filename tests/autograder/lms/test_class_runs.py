"""LMS archives graded for real: Canvas's download in and canvas.csv out by Canvas id, and
Gradescope's export with the late policy from its own metadata."""
import csv
import io
import json
import subprocess
import sys
import zipfile

from tests.autograder.grade import helpers
from tests.autograder.lms import archives
from tests.hostile import support

DEADLINE = "2026-12-11T23:59:00-08:00"


def rows_of(text):
    return list(csv.reader(io.StringIO(text)))


def results(grades, sid):
    return json.loads((grades / sid / "results.json").read_text())


def full_points():
    from autograder.grade.pipeline import select_items
    from autograder.spec import load_spec
    return sum(item.points for item in select_items(load_spec(), archives.FAST_ITEMS))


def test_canvas_download_graded_and_exported_to_canvas_by_canvas_id(tmp_path):
    download = archives.canvas_download(tmp_path / "CNN homework submissions.zip", tmp_path)
    gradebook_export = tmp_path / "2026-12-14T0900_Grades-CS231.csv"
    gradebook_export.write_text(archives.CANVAS_GRADEBOOK)
    spec = helpers.spec_with(tmp_path / "grading.toml", settings={"deadline": DEADLINE})
    grades = tmp_path / "grades"

    run = support.grade_command(download, "--out", grades, "--items", archives.FAST_ITEMS,
                                "--spec", spec, "--jobs", "2", timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Canvas download archive CNN homework submissions.zip: 3 submission(s), 1 marked " \
           "late by Canvas" in run.stderr
    ids = sorted(p.name for p in grades.iterdir() if (p / "results.json").exists())
    assert ids == ["babbagebob_102", "droppeddee_105", "lovelaceada_101"]

    ada, bob = results(grades, "lovelaceada_101"), results(grades, "babbagebob_102")
    # Ada's loose files are one submission; the later conv_layers-1.py is graded, not the
    # broken first upload
    assert ada["score"] == full_points()
    assert ada["extra_data"]["lms"]["canvas_id"] == "101"
    assert ada["extra_data"]["lms"]["late_marker"] is False
    assert any("conv_layers.py and conv_layers-1.py" in note
               for note in ada["extra_data"]["lms"]["notes"])
    # Bob's zip is graded; Canvas's LATE is recorded and, with no time to apply the policy,
    # flagged for review (no penalty guessed)
    assert bob["score"] == full_points()
    assert bob["extra_data"]["lms"]["late_marker"] is True
    assert "Canvas marked it late" in bob["extra_data"]["lms"]["review"]
    assert bob["extra_data"]["late"]["fraction"] == 0 and bob["extra_data"]["late"]["unknown"]
    book = {row["submission"]: row for row in csv.DictReader(io.StringIO(
        (grades / "gradebook.csv").read_text()))}
    assert book["babbagebob_102"]["lms_late_marker"] == "LATE"
    assert "Canvas marked it late" in book["babbagebob_102"]["needs_review"]
    assert book["lovelaceada_101"]["lms_student_id"] == "101"
    assert book["lovelaceada_101"]["lms_late_marker"] == "" \
        and book["lovelaceada_101"]["needs_review"] == ""

    # the same command again: the archive is not unpacked anew and nothing is regraded
    again = support.grade_command(download, "--out", grades, "--items", archives.FAST_ITEMS,
                                  "--spec", spec, timeout=600)
    assert "grading 0 of 3 submissions" in again.stderr, again.stderr[-2000:]

    out = tmp_path / "canvas.csv"
    export = subprocess.run([sys.executable, "-m", "autograder.export.canvas", str(grades),
                             "--roster", str(gradebook_export), "--out", str(out),
                             "--assignment", "CNN homework"],
                            capture_output=True, text=True, cwd=str(support.REPO_ROOT),
                            timeout=120)
    assert export.returncode == 0, export.stderr
    rows = rows_of(out.read_text())
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "CNN homework (555)"]
    assert rows[1][0] == "Points Possible"
    by_id = {row[1]: row for row in rows[2:]}
    assert set(by_id) == {"101", "102", "103", "104", "999"}   # every roster student, once
    assert by_id["101"][-1] == by_id["102"][-1] == "%g" % full_points()
    assert by_id["102"][:5] == ["Babbage, Bob", "102", "S102", "bob", "Section A"]
    assert by_id["103"][-1] == by_id["104"][-1] == by_id["999"][-1] == ""
    unmatched = (tmp_path / "canvas.csv.unmatched.csv").read_text()
    for who in ("Hopper, Grace", "Turing, Alan", "Student, Test", "droppeddee_105"):
        assert who in unmatched and who in export.stdout
    assert "Lovelace" not in unmatched and "babbagebob" not in unmatched


def test_gradescope_export_graded_with_the_late_policy_from_its_metadata(tmp_path):
    export = archives.gradescope_export(tmp_path / "assignment_777_export.zip", tmp_path)
    (tmp_path / "extensions.csv").write_text("student,extra_days\ndave@uni.edu,2\n")
    spec = helpers.spec_with(tmp_path / "grading.toml", settings={
        "deadline": DEADLINE, "penalty_per_unit": 0.1, "extensions": "extensions.csv"})
    grades = tmp_path / "grades"
    run = support.grade_command(export, "--out", grades, "--items", archives.FAST_ITEMS,
                                "--spec", spec, "--jobs", "2", timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Gradescope export assignment_777_export.zip: 3 submission(s), 3 with Gradescope's " \
           "submission time" in run.stderr
    assert "have no submission time" not in run.stderr

    alice = results(grades, "submission_1001")
    group = results(grades, "submission_1002")
    dave = results(grades, "submission_1003")
    points = full_points()
    assert alice["score"] == group["score"] == dave["score"] == points   # raw scores
    # Alice: on time by Gradescope's time; her upload's own metadata file is not believed
    assert alice["extra_data"]["late"]["fraction"] == 0
    assert alice["extra_data"]["late"]["submitted_at"] == "2026-12-12T04:00:00.123456+00:00"
    assert "ignored" in alice["extra_data"]["late"]
    # Bob and Carol: 2 days late by the export's metadata
    assert group["extra_data"]["late"]["units"] == 2
    assert group["extra_data"]["late"]["fraction"] == 0.2
    assert [s["sid"] for s in group["extra_data"]["lms"]["students"]] == ["s2", "s3"]
    # Dave: late, but inside the extension that names his email in the metadata
    assert dave["extra_data"]["late"]["extension"] == "dave@uni.edu"
    assert dave["extra_data"]["late"]["fraction"] == 0
    book = {row["submission"]: row for row in csv.DictReader(io.StringIO(
        (grades / "gradebook.csv").read_text()))}
    assert float(book["submission_1002"]["total"]) == round(points * 0.8, 4)
    assert float(book["submission_1001"]["total"]) == points
    assert book["submission_1002"]["lms_student"] == "Bob Babbage; Carol O'Neil"


def test_an_unpacked_gradescope_export_is_graded_in_place_and_named_by_the_flag(tmp_path):
    from autograder.batch import run
    from autograder.grade.pipeline import GradeOptions
    export = archives.gradescope_export(tmp_path / "export.zip", tmp_path)
    with zipfile.ZipFile(export) as z:
        z.extractall(tmp_path / "unpacked")
    said = []
    entries, tasks, _, _ = run.plan([str(tmp_path / "unpacked")], str(tmp_path / "grades"),
                                    GradeOptions(), lms_from="gradescope", say=said.append)
    assert said and said[0].startswith("Gradescope export unpacked: 3 submission(s)")
    assert [e.id for e in entries] == ["submission_1001", "submission_1002", "submission_1003"]
    inside = tmp_path / "unpacked" / "assignment_777_export"
    assert entries[0].path == str(inside / "submission_1001")
    assert entries[1].path == str(inside / "submission_1002" / "cnn_submission.zip")
    assert entries[1].trusted["created_at"] == "2026-12-13T09:00:00+00:00"
    assert [t.lms["submission_id"] for t in tasks] == ["1001", "1002", "1003"]
