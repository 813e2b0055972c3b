"""The hostile corpus graded in one class run beside correct submissions.

Expected: the run completes; every submission gets a score and a message saying
what happened (corpus.Case); correct submissions keep full marks (their reports
untouched); nothing is written outside the grading folders; the network listener
hears nothing; no process is left running.
"""
import csv
import json
import os
import re
import secrets
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from autograder.results import schema as gradescope
from tests.hostile import corpus, support

CORRECT = 4


class Listener:
    """A TCP server on loopback counting the connections it accepts."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self):
        self.stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory, fixture_model, cifar10_dir):
    root = tmp_path_factory.mktemp("hostile")
    token = secrets.token_hex(6)
    classroom, grades, canary = root / "class", root / "grades", root / "canary"
    canary.mkdir()
    os.chmod(canary, 0o777)
    listener = Listener()
    targets = corpus.Targets(canary=str(canary), port=listener.port, token=token,
                             victim_results=str(grades / "correct_1" / "results.json"),
                             cifar_dir=str(cifar10_dir))
    cases = corpus.build(classroom, fixture_model, targets)
    correct = corpus.build_correct(classroom, fixture_model, CORRECT)
    spec = support.class_spec(root / "grading.toml")
    tmpdir = root / ("tmp-" + token)
    tmpdir.mkdir()
    start = time.monotonic()
    # --published: the messages match the full "Score: N / N" line (before publication the
    # top-level output gives only the visible items' score; tests/autograder/report covers that).
    proc = support.grade_command(classroom, "--out", grades, "--spec", spec, "--items",
                                 corpus.CI_ITEMS, "--cifar-dir", cifar10_dir, "--published",
                                 env={"TMPDIR": str(tmpdir), "AUTOGRADER_TEST_MARKER": token},
                                 timeout=1200)
    seconds = time.monotonic() - start
    leftovers = support.leftover_processes(token)
    listener.close()
    yield {"proc": proc, "cases": cases, "correct": correct, "grades": grades, "root": root,
           "canary": canary, "token": token, "listener": listener, "leftovers": leftovers,
           "seconds": seconds, "tmpdir": tmpdir}


def results(run, sid):
    return json.loads((run["grades"] / sid / "results.json").read_text())


def test_corpus_is_big_enough(hostile_run):
    assert len(hostile_run["cases"]) >= 25
    names = {c.name for c in hostile_run["cases"]}
    for required in ("loop_in_function", "loop_at_import", "alloc_8gb", "fork_bomb", "os_exit",
                     "sys_exit", "keyboard_interrupt", "system_exit", "kill_parent",
                     "print_100mb", "write_outside", "write_victim", "read_solutions",
                     "read_heldout", "network", "monkeypatch_numpy", "own_gradient_check",
                     "pickled_model", "zip_traversal.zip", "zip_bomb.zip", "empty_zip.zip",
                     "invalid_notebooks", "non_utf8_source", "one_gb_file"):
        assert required in names


def test_the_batch_completes(hostile_run):
    proc = hostile_run["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    total = len(hostile_run["cases"]) + CORRECT
    assert "Graded: %d of %d submissions" % (total, total) in proc.stdout
    rows = (hostile_run["grades"] / "gradebook.csv").read_text().splitlines()
    assert len(rows) == total + 1


def test_every_submission_gets_a_score_and_a_message(hostile_run):
    failures = []
    for case in hostile_run["cases"]:
        data = results(hostile_run, case.id)
        assert gradescope.validate(data) == [], case.name
        scores = {t["extra_data"]["item"]: (t["score"], t["max_score"]) for t in data["tests"]}
        assert set(scores) == set(corpus.ALL), case.name
        wrong = ["%s should be 0, got %s" % (i, scores[i][0]) for i in case.zero if scores[i][0]]
        wrong += ["%s should be full, got %s" % (i, scores[i][0]) for i in case.full
                  if scores[i][0] != scores[i][1]]
        told = data["output"] + "\n" + "\n".join(t["output"] for t in data["tests"])
        if not re.search(case.message, told):
            wrong.append("no message matching %r" % case.message)
        if data["extra_data"].get("grader_error"):
            wrong.append("grader error: %s" % data["extra_data"]["grader_error"][:300])
        if wrong:
            failures.append("%s (%s): %s" % (case.name, case.what, "; ".join(wrong)))
    assert not failures, "\n".join(failures)


def test_correct_submissions_keep_full_marks(hostile_run):
    for name in hostile_run["correct"]:
        sid = name[:-4] if name.endswith(".zip") else name
        data = results(hostile_run, sid)
        assert data["score"] == corpus.CI_POINTS, sid
        assert all(t["status"] == "passed" for t in data["tests"])
        assert data["extra_data"]["batch"]["id"] == sid


def test_nothing_is_written_outside_the_grading_folders(hostile_run):
    token = hostile_run["token"]
    assert list(hostile_run["canary"].iterdir()) == []
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all",
                             "--ignored"], capture_output=True, text=True,
                            cwd=str(support.REPO_ROOT)).stdout
    assert token not in status
    assert not Path("/tmp/hostile_%s.txt" % token).exists()
    assert not Path("/tmp/absolute_%s.py" % token).exists()
    escaped = [p for p in hostile_run["root"].rglob("*")
               if token in p.name and p != hostile_run["tmpdir"]]
    assert escaped == []
    for parent in (hostile_run["root"].parent, Path("/tmp"), support.REPO_ROOT):
        assert not list(parent.glob("escaped*_%s.py" % token))
    # the grader's own temporary folders are gone too
    assert list(hostile_run["tmpdir"].iterdir()) == []


def test_the_network_is_unreachable(hostile_run):
    assert hostile_run["listener"].accepted == 0


def test_no_process_is_left_running(hostile_run):
    assert hostile_run["leftovers"] == []


def test_summary_and_gradebook(hostile_run):
    summary = (hostile_run["grades"] / "summary.md").read_text()
    assert summary in hostile_run["proc"].stdout
    assert "Pass rate per item" in summary
    header = (hostile_run["grades"] / "gradebook.csv").read_text().splitlines()[0].split(",")
    # the corrupt zip is flagged for review (its 0 is not a student's real zero)
    assert header[:3] == ["submission", "total", "max_score"] and \
        set(header[3:]) == set(corpus.ALL) | {"needs_review"}
    with open(hostile_run["grades"] / "gradebook.csv", newline="") as f:
        flagged = {row["submission"]: row["needs_review"] for row in csv.DictReader(f)
                   if row["needs_review"]}
    assert flagged.get("not_a_zip", "").startswith("cannot read the submission"), flagged
