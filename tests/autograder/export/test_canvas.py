"""Canvas export: the roster's students in Canvas's import layout, nobody dropped silently."""
import csv
import io
import subprocess
import sys
from pathlib import Path

from autograder.export.canvas import canvas_export, read_roster
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
    roster.write_text("Student,ID\nAlice,101\n")
    proc = subprocess.run([sys.executable, "-m", "autograder.export.canvas", str(grades),
                           "--roster", str(roster), "--out", str(tmp_path / "c.csv")],
                          capture_output=True, text=True, cwd=str(ROOT), timeout=60)
    assert proc.returncode == 2 and "'submission'" in proc.stderr
    assert not (tmp_path / "c.csv").exists()
