"""changes.csv of a regrade: old and new totals and items, kept copies never followed links."""
import csv
import os

from autograder.report import changes
from tests.autograder.report.class_fixtures import graded


def test_changed_and_unchanged_submissions(tmp_path):
    graded(tmp_path, "up", [5, 20])
    graded(tmp_path, "down", [10, 20])
    graded(tmp_path, "same", [10, 20])
    changes.keep_previous(str(tmp_path), ["up", "down", "same", "new"])
    graded(tmp_path, "up", [10, 20])
    graded(tmp_path, "down", [10, 12])
    graded(tmp_path, "same", [10, 20])
    graded(tmp_path, "new", [10, 20])
    assert changes.write_changes(str(tmp_path)) == 2
    with open(tmp_path / changes.CHANGES_FILE) as f:
        rows = {r["submission"]: r for r in csv.DictReader(f)}
    assert set(rows) == {"up", "down"}
    assert rows["down"]["old_total"] == "30" and rows["down"]["new_total"] == "22"
    assert rows["down"]["change"] == "-8" and rows["down"]["lowered"] == "yes"
    assert rows["down"]["items_changed"] == "conv_layers.max_pool_backward_naive.gradient: 20 -> 12"
    assert rows["up"]["lowered"] == ""
    assert not list(tmp_path.glob("*/" + changes.PREVIOUS_FILE))   # the next regrade starts over
    assert changes.write_changes(str(tmp_path)) is None               # a plain rerun: no change


def test_an_interrupted_regrade_keeps_the_oldest_scores(tmp_path):
    graded(tmp_path, "a", [10, 20])
    changes.keep_previous(str(tmp_path), ["a"])
    graded(tmp_path, "a", [0, 0])             # the regrade got this far, then was killed
    changes.keep_previous(str(tmp_path), ["a"])  # the rerun must not overwrite the copy
    graded(tmp_path, "a", [10, 10])
    changes.write_changes(str(tmp_path))
    with open(tmp_path / changes.CHANGES_FILE) as f:
        (row,) = list(csv.DictReader(f))
    assert row["old_total"] == "30" and row["new_total"] == "20"


def test_a_linked_results_json_is_not_copied(tmp_path):
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("{}")
    (tmp_path / "a").mkdir()
    os.symlink(elsewhere, tmp_path / "a" / "results.json")
    changes.keep_previous(str(tmp_path), ["a"])
    assert not (tmp_path / "a" / changes.PREVIOUS_FILE).exists()
