"""Canvas export: the roster's students in Canvas's import layout, nobody dropped silently."""
import csv
import io
import subprocess
import sys
from pathlib import Path

from autograder.export.canvas import canvas_export, read_roster, resolve_assignment
from tests.autograder.report.class_fixtures import graded

ROOT = Path(__file__).resolve().parents[3]
LATE_2_DAYS = {"deadline": "2026-12-11T23:59:00-08:00", "extension": None,
               "submitted_at": "2026-12-13T09:00:00+00:00", "late_hours": 25.0, "units": 2,
               "unit": "day", "fraction": 0.2}


def make_class(tmp_path):
    grades = tmp_path / "grades"
    graded(grades, "sub_alice", [10, 20])
    graded(grades, "sub_bob", [10, 15], late=LATE_2_DAYS)
    graded(grades, "sub_nobody", [5, 5])
    graded(grades, "sub_crashed", [0, 0], grader_error="boom")
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,submission\n"
                      "\"Lovelace, Alice\",101,S1,alice,L01,sub_alice\n"
                      "\"Babbage, Bob\",102,S2,bob,L01,sub_bob\n"
                      "\"Hopper, Grace\",103,S3,grace,L02,\n"
                      "\"Turing, Alan\",104,S4,alan,L02,sub_crashed\n")
    return grades, roster


def rows_of(text):
    return list(csv.reader(io.StringIO(text)))


def test_canvas_layout_totals_after_late_penalty(tmp_path):
    grades, roster = make_class(tmp_path)
    export = canvas_export(str(grades), read_roster(str(roster)), "CNN homework (555)")
    rows = rows_of(export.csv_text)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "CNN homework (555)"]
    assert rows[1] == ["Points Possible", "", "", "", "", "30"]
    by_id = {row[1]: row for row in rows[2:]}
    assert by_id["101"] == ["Lovelace, Alice", "101", "S1", "alice", "L01", "30"]
    assert by_id["102"][-1] == "20"          # 25 raw, 20% late penalty
    assert by_id["103"][-1] == "" and by_id["104"][-1] == ""
    assert len(rows) == 2 + 4                # every roster student, in roster order
    assert [row[1] for row in rows[2:]] == ["101", "102", "103", "104"]


def test_unmatched_on_both_sides_are_listed(tmp_path):
    grades, roster = make_class(tmp_path)
    export = canvas_export(str(grades), read_roster(str(roster)))
    assert export.not_in_roster == ["sub_nobody"]
    assert export.no_submission == ["Hopper, Grace / 103 / S3 / grace"]
    assert export.not_graded == ["sub_crashed"]
    assert export.exported == 2
    listed = export.unmatched_csv()
    for who in ("sub_nobody", "Hopper, Grace", "sub_crashed"):
        assert who in listed


def test_command_line(tmp_path):
    grades, roster = make_class(tmp_path)
    out = tmp_path / "canvas.csv"
    proc = subprocess.run([sys.executable, "-m", "autograder.export.canvas", str(grades),
                           "--roster", str(roster), "--out", str(out)],
                          capture_output=True, text=True, cwd=str(ROOT), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "2 students exported" in proc.stdout and "sub_nobody" in proc.stdout
    assert "Hopper, Grace" in proc.stdout
    assert rows_of(out.read_text())[0][-1] == "CNN homework"
    assert "sub_nobody" in (tmp_path / "canvas.csv.unmatched.csv").read_text()


def test_roster_without_the_needed_columns_is_a_usage_error(tmp_path):
    grades, _ = make_class(tmp_path)
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,Email\nAlice,alice@uni.edu\n")
    proc = subprocess.run([sys.executable, "-m", "autograder.export.canvas", str(grades),
                           "--roster", str(roster), "--out", str(tmp_path / "c.csv")],
                          capture_output=True, text=True, cwd=str(ROOT), timeout=60)
    assert proc.returncode == 2 and "'submission'" in proc.stderr and "'ID'" in proc.stderr
    assert not (tmp_path / "c.csv").exists()


def canvas_graded(grades, sid, canvas_id, scores):
    """A submission graded from Canvas's download: results.json names its Canvas id."""
    from autograder.report import write_reports
    result = graded(grades, sid, scores)
    result.lms = {"kind": "canvas", "canvas_id": canvas_id, "name": sid,
                           "late_marker": False, "files": [], "notes": []}
    write_reports(result, str(grades / sid))


def test_canvas_gradebook_export_is_a_roster_matched_by_canvas_id(tmp_path):
    grades = tmp_path / "grades"
    canvas_graded(grades, "lovelaceada_101", "101", [10, 20])
    canvas_graded(grades, "droppeddee_105", "105", [10, 20])
    # Canvas's export as a European locale writes it: semicolons, names split in two
    # columns, no SIS User ID, a Manual Posting row and the Points Possible row
    roster = tmp_path / "export.csv"
    roster.write_text("\ufeffLastName;FirstName;ID;SIS Login ID;Section;CNN homework (555);"
                      "Current Score\n"
                      ";;;;;Manual Posting;\n"
                      "    Points Possible;;;;;30,00;(read only)\n"
                      "Lovelace;Ada;101;ada;L01;;\n"
                      "Hopper;Grace;103;grace;L02;;\n")
    loaded = read_roster(str(roster))
    assert [s["ID"] for s in loaded] == ["101", "103"]
    assert resolve_assignment("CNN homework", loaded) == "CNN homework (555)"
    assert resolve_assignment("555", loaded) == "CNN homework (555)"
    assert resolve_assignment("Other homework", loaded) == "Other homework"
    export = canvas_export(str(grades), loaded, "CNN homework (555)")
    rows = rows_of(export.csv_text)
    assert rows[2] == ["Lovelace, Ada", "101", "", "ada", "L01", "30"]
    assert rows[3][1] == "103" and rows[3][-1] == ""
    assert export.no_submission == ["Hopper, Grace / 103 / grace"]
    assert export.not_in_roster == ["droppeddee_105"]


def test_a_hand_made_roster_still_matches_by_submission_and_falls_back_to_the_canvas_id(
        tmp_path):
    grades = tmp_path / "grades"
    canvas_graded(grades, "lovelaceada_101", "101", [10, 20])
    graded(grades, "bob_zip", [5, 5])
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,submission\nAda,101,\nBob,102,bob_zip\n")
    export = canvas_export(str(grades), read_roster(str(roster)))
    assert [row[-1] for row in rows_of(export.csv_text)[2:]] == ["30", "10"]
    assert export.not_in_roster == [] and export.no_submission == []
