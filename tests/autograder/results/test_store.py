"""results.json is written and read in one module (autograder.results.store), with the same
refusals everywhere: links, pipes, oversized and malformed files are not read."""
import ast
import json
import os
from pathlib import Path

import autograder
from autograder.results import records, store
from autograder.results.model import GradeResult, ItemResult

PACKAGE = Path(autograder.__file__).resolve().parent
STORE = PACKAGE / "results" / "store.py"
FILE_CALLS = {"open", "load", "loads", "copyfile", "copy", "copy2", "read_text", "read_bytes",
              "isfile", "exists", "lexists", "stat", "lstat", "write_text", "replace"}


def result(output="fine", late=None):
    return GradeResult("alice", items=[ItemResult("layers.softmax_loss.loss", "softmax", 1.0,
                                                  2.0, False, output, "visible", "forward_value")],
                       seed=7, late=late)


def _mentions_results_file(node):
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str) \
                and sub.value.rstrip().endswith("results.json") and " " not in sub.value:
            return True
        if isinstance(sub, ast.Name) and sub.id == "RESULTS_FILE":
            return True
        if isinstance(sub, ast.Attribute) and sub.attr in ("RESULTS_FILE", "path_in"):
            return True
    return False


def results_file_opens(package=PACKAGE):
    """[(module path, line)] outside the store that name results.json's file in a call that
    opens, copies, tests or writes a file, or hold the name as a literal."""
    found = []
    for path in sorted(package.rglob("*.py")):
        if path == STORE:
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value == "results.json":
                found.append((str(path.relative_to(package)), node.lineno))
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else \
                    getattr(node.func, "id", "")
                if name in FILE_CALLS and any(_mentions_results_file(a) for a in node.args):
                    found.append((str(path.relative_to(package)), node.lineno))
    return found


def test_results_json_is_opened_in_the_store_alone():
    assert results_file_opens() == []


def test_the_check_finds_a_planted_open_of_results_json(tmp_path):
    module = tmp_path / "pkg" / "reader.py"
    module.parent.mkdir()
    module.write_text("import json, os\n\ndef read(d):\n"
                      "    with open(os.path.join(d, 'results.json')) as f:\n"
                      "        return json.load(f)\n")
    assert results_file_opens(tmp_path / "pkg") == [("reader.py", 4), ("reader.py", 4)]


def test_dump_then_load_round_trips_the_result(tmp_path):
    store.dump(tmp_path, result())
    data = store.load(tmp_path)
    assert data["tests"][0]["extra_data"]["item"] == "layers.softmax_loss.loss"
    assert data["score"] == 1.0 and data["extra_data"]["seed"] == 7
    assert store.exists(tmp_path)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".part")]


def test_dump_is_bounded_whoever_writes(tmp_path):
    # the Gradescope runner writes through dump too: a 40 MB output is cut there as well
    store.dump(tmp_path, result(output="x" * 40_000_000), after_late_penalty=True)
    assert os.path.getsize(store.path_in(tmp_path)) < 2_000_000


def test_the_late_penalty_is_applied_only_when_asked(tmp_path):
    late = {"deadline": "2026-01-01T00:00:00+00:00", "extension": None,
            "submitted_at": "2026-01-01T03:00:00+00:00", "late_hours": 3.0, "units": 1,
            "unit": "day", "fraction": 0.5}
    store.dump(tmp_path, result(late=late), after_late_penalty=True)
    data = store.load(tmp_path)
    assert data["score"] == 0.5 and data["extra_data"]["raw_score"] == 1.0
    store.dump(tmp_path, result(late=late))
    assert store.load(tmp_path)["score"] == 1.0


def test_load_refuses_links_pipes_oversized_and_malformed_files(tmp_path):
    real = tmp_path / "real"
    store.dump(real, result())
    linked = tmp_path / "linked"
    linked.mkdir()
    os.symlink(store.path_in(real), store.path_in(linked))
    assert store.load(linked) is None and not store.exists(linked)
    piped = tmp_path / "piped"
    piped.mkdir()
    os.mkfifo(store.path_in(piped))
    assert store.load(piped) is None   # returns at once: never blocks on a pipe
    big = tmp_path / "big"
    big.mkdir()
    with open(store.path_in(big), "wb") as f:
        f.truncate(store.MAX_BYTES + 1)
    assert store.load(big) is None
    for name, text in (("garbage", "{not json"), ("list", "[1, 2]"), ("deep", "[" * 100000)):
        folder = tmp_path / name
        folder.mkdir()
        Path(store.path_in(folder)).write_text(text)
        assert store.load(folder) is None


def test_copy_keeps_a_regular_file_and_never_follows_a_link(tmp_path):
    store.dump(tmp_path / "a", result())
    assert store.copy(tmp_path / "a", str(tmp_path / "kept.json"))
    assert json.loads((tmp_path / "kept.json").read_text())["score"] == 1.0
    (tmp_path / "b").mkdir()
    os.symlink(store.path_in(tmp_path / "a"), store.path_in(tmp_path / "b"))
    assert not store.copy(tmp_path / "b", str(tmp_path / "kept_b.json"))
    assert not (tmp_path / "kept_b.json").exists()


def test_records_read_back_what_a_class_run_compares(tmp_path):
    data = {"extra_data": {"seed": 3, "batch": {"fingerprint": "abc"}, "late": {"fraction": 0.1},
                           "lms": {"kind": "canvas"},
                           "overrides": [{"item": "x", "points": 2, "delta": None, "comment": "c",
                                          "grader": "TA", "grader_score": 0}]}}
    assert records.finished(data, "abc", 3) and not records.finished(data, "abd", 3)
    assert not records.finished(dict(data, extra_data=dict(data["extra_data"],
                                                           grader_error="boom")), "abc", 3)
    assert records.late(data) == {"fraction": 0.1} and records.lms(data) == {"kind": "canvas"}
    assert records.override_requests(data) == ({"item": "x", "points": 2, "delta": None,
                                                "comment": "c", "grader": "TA"},)
    for broken in (None, {}, {"extra_data": "x"}, {"extra_data": {"overrides": 5}}):
        assert not records.finished(broken, "abc", 3)
        assert records.late(broken) is None
    assert records.override_requests({"extra_data": {"overrides": 5}}) is None


def test_review_gives_every_reason_in_one_capped_printable_line():
    data = {"extra_data": {"unreadable": "could not extract from the submitted zip: a.py",
                           "accuracy": {"needs_review": True, "review_reason": "agree on 12%\nonly"},
                           "lms": {"review": "Canvas marked it late but gives no time"}}}
    reason = records.review(data)
    assert reason == ("could not extract from the submitted zip: a.py; agree on 12% only; "
                      "Canvas marked it late but gives no time").replace("12% only", "12%\\nonly")
    assert records.review({"extra_data": {"accuracy": {"needs_review": False}}}) == ""
    assert len(records.review({"extra_data": {"unreadable": "x" * 5000}})) < 400   # cut at 300
