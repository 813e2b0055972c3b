"""Attacks on the sandbox's file exchange, its resources and the hidden data (issue 11),
graded in class runs beside correct submissions (tests/hostile/sandbox_attacks.py).

Expected, for each run: it completes within its time limits; every attack gets a score
and a message saying what happened, costing only the items it breaks; the correct
submissions keep full marks; nothing outside the sandbox is written (the canary folder,
its 0600 file and an earlier results.json are exactly as before, modes included); no
held-out image is read although CIFAR-10 exists in two places; no process is left.
"""
import json
import os
import re
import secrets
import shutil
import stat
import time
from pathlib import Path

import pytest

from autograder.results import schema as gradescope
from autograder.sandbox.isolation import available_level
from tests.autograder.grade import helpers
from tests.hostile import corpus, sandbox_attacks, support

CORRECT = 2
CAP_MB = 64            # tmp_limit_mb and work_limit_mb of the runs' spec
RUN_SECONDS = 900      # far below what a blocked read (the attacks sleep 600 s) would take

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or available_level() != "bwrap",
                                reason="runs as root with bubblewrap, as CI does")


def _spec(path, **settings):
    overrides = {item: {"time_limit": 6.0} for item in corpus.ALL}
    overrides[corpus.ACCURACY] = dict(support.ACCURACY_SCALED, time_limit=60.0)
    return str(helpers.spec_with(path, overrides, settings=dict(
        tmp_limit_mb=CAP_MB, work_limit_mb=CAP_MB, **settings)))


def _second_cifar_copy(folder, cifar_dir):
    """A CIFAR-10 folder elsewhere (links to the real files), for --cifar-dir."""
    folder.mkdir()
    for name in os.listdir(cifar_dir):
        os.symlink(os.path.join(cifar_dir, name), folder / name)
    return folder


def _host_files(root, token):
    """The canary folder with a 0600 secret and an earlier results.json: (Aims, snapshot)."""
    canary = root / "canary"
    canary.mkdir()
    os.chmod(canary, 0o777)
    secret = canary / "secret.txt"
    secret.write_text("secret " + token)
    os.chmod(secret, 0o600)
    earlier = canary / "results.json"
    earlier.write_text(json.dumps({"score": 12.5, "output": "graded earlier " + token}))
    os.chmod(earlier, 0o644)
    return canary, secret, earlier


def snapshot(folder):
    """{name: (mode, bytes)} of a folder's entries, links not followed."""
    out = {}
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        info = os.lstat(path)
        data = open(path, "rb").read() if stat.S_ISREG(info.st_mode) else None
        out[entry] = (stat.S_IMODE(info.st_mode), stat.S_IFMT(info.st_mode), data)
    return out


def _class_run(root, fixture_model, cifar10_dir, select=None, level=None, retrain=False):
    token = secrets.token_hex(6)
    classroom, grades = root / "class", root / "grades"
    canary, secret, earlier = _host_files(root, token)
    copy = _second_cifar_copy(root / "cifar-copy", cifar10_dir)
    from cs231n.data_utils import DEFAULT_CIFAR10_DIR
    aims = sandbox_attacks.Aims(canary=str(canary), secret=str(secret),
                                earlier_results=str(earlier),
                                victim_results=str(grades / "correct_1" / "results.json"),
                                cifar_dirs=(str(copy), str(cifar10_dir), str(DEFAULT_CIFAR10_DIR)))
    classroom.mkdir()
    if retrain:
        cases = sandbox_attacks.build_retrain(classroom, fixture_model, aims)
    else:
        cases = sandbox_attacks.build(classroom, fixture_model, aims)
    if select is not None:
        cases = select(cases)
        keep = {case.name for case in cases}
        for name in os.listdir(classroom):
            if name not in keep:
                shutil.rmtree(classroom / name)
    # With --retrain every submission trains from its notebook: no correct ones beside.
    correct = corpus.build_correct(classroom, fixture_model, 0 if retrain else CORRECT)
    before = snapshot(canary)
    tmpdir = root / ("tmp-" + token)
    tmpdir.mkdir()
    args = [classroom, "--out", grades, "--spec", _spec(root / "grading.toml"),
            "--items", corpus.ACCURACY if retrain else corpus.CI_ITEMS,
            "--cifar-dir", copy, "--published"]   # messages match the full "Score: N / N" line
    if level:
        args += ["--sandbox", level]
    if retrain:
        args += ["--retrain"]
    start = time.monotonic()
    proc = support.grade_command(*args, env={"TMPDIR": str(tmpdir),
                                             "AUTOGRADER_TEST_MARKER": token},
                                 timeout=RUN_SECONDS + 300)
    seconds = time.monotonic() - start
    return {"proc": proc, "cases": cases, "correct": correct, "grades": grades, "token": token,
            "canary": canary, "before": before, "seconds": seconds, "tmpdir": tmpdir,
            "leftovers": support.leftover_processes(token)}


@pytest.fixture(scope="module")
def bwrap_run(tmp_path_factory, fixture_model, cifar10_dir):
    return _class_run(tmp_path_factory.mktemp("integrity"), fixture_model, cifar10_dir)


@pytest.fixture(scope="module")
def weaker_run(tmp_path_factory, fixture_model, cifar10_dir):
    return _class_run(tmp_path_factory.mktemp("integrity-rlimits"), fixture_model, cifar10_dir,
                      select=sandbox_attacks.weaker_level_cases, level="rlimits")


@pytest.fixture(scope="module")
def retrain_run(tmp_path_factory, fixture_model, cifar10_dir):
    return _class_run(tmp_path_factory.mktemp("integrity-retrain"), fixture_model, cifar10_dir,
                      retrain=True)


RUNS = ["bwrap_run", "weaker_run", "retrain_run"]


def results(run, sid):
    return json.loads((run["grades"] / sid / "results.json").read_text())


def _told(data):
    return data["output"] + "\n" + "\n".join(t["output"] for t in data["tests"])


@pytest.mark.parametrize("run_name", RUNS)
def test_the_run_completes_within_its_time_limits(request, run_name):
    run = request.getfixturevalue(run_name)
    proc = run["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    total = len(run["cases"]) + len(run["correct"])
    assert "Graded: %d of %d submissions" % (total, total) in proc.stdout
    assert len((run["grades"] / "gradebook.csv").read_text().splitlines()) == total + 1
    assert run["seconds"] < RUN_SECONDS


@pytest.mark.parametrize("run_name", RUNS)
def test_every_attack_gets_a_score_and_a_message(request, run_name):
    run = request.getfixturevalue(run_name)
    failures = []
    for case in run["cases"]:
        data = results(run, case.id)
        assert gradescope.validate(data) == [], case.name
        scores = {t["extra_data"]["item"]: (t["score"], t["max_score"]) for t in data["tests"]}
        wrong = ["%s should be 0, got %s" % (i, scores[i][0]) for i in case.zero if scores[i][0]]
        wrong += ["%s should be full, got %s" % (i, scores[i][0]) for i in case.full
                  if scores[i][0] != scores[i][1]]
        if not re.search(case.message, _told(data), re.S):
            wrong.append("no message matching %r" % case.message)
        if data["extra_data"].get("grader_error"):
            wrong.append("grader error: %s" % data["extra_data"]["grader_error"][:300])
        if wrong:
            failures.append("%s (%s): %s\n%s" % (case.name, case.what, "; ".join(wrong),
                                                 _told(data)[:1500]))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("run_name", ["bwrap_run", "weaker_run"])
def test_correct_submissions_keep_full_marks(request, run_name):
    run = request.getfixturevalue(run_name)
    assert len(run["correct"]) == CORRECT
    for name in run["correct"]:
        sid = name[:-4] if name.endswith(".zip") else name
        data = results(run, sid)
        assert all(t["status"] == "passed" for t in data["tests"]), sid
        assert data["score"] == sum(t["max_score"] for t in data["tests"]) > 0
        assert data["extra_data"]["batch"]["id"] == sid


@pytest.mark.parametrize("run_name", RUNS)
def test_nothing_outside_the_sandbox_is_written(request, run_name):
    run = request.getfixturevalue(run_name)
    # The canary folder: the same entries, bytes and modes (the 0600 secret stays 0600).
    assert snapshot(run["canary"]) == run["before"]
    # No report is anything but the grader's own (a link written through would show here).
    for path in run["grades"].rglob("*"):
        assert not path.is_symlink(), path
    assert list(run["tmpdir"].iterdir()) == []


@pytest.mark.parametrize("run_name", RUNS)
def test_no_process_is_left_running(request, run_name):
    assert request.getfixturevalue(run_name)["leftovers"] == []


def test_held_out_images_stay_hidden_with_two_cifar_copies(bwrap_run):
    for case in bwrap_run["cases"]:
        assert "LEAKED" not in _told(results(bwrap_run, case.id)), case.name
    assert "every CIFAR-10 copy is hidden" in _told(results(bwrap_run, "reads_every_cifar_copy"))


def test_the_caps_are_reported_in_the_results(bwrap_run, weaker_run):
    sandbox = results(bwrap_run, "correct_1")["extra_data"]["sandbox"]
    assert sandbox["level"] == "bwrap" and sandbox["results_over_pipes"]
    assert sandbox["tmp_limit_mb"] == sandbox["work_limit_mb"] == CAP_MB
    assert sandbox["work_limit"] == "tmpfs" and sandbox["grader_files_read_only"]
    weaker = results(weaker_run, "correct_1")["extra_data"]["sandbox"]
    assert weaker["level"] == "rlimits" and weaker["tmp_limit_mb"] is None
    assert weaker["work_limit"] == "checked between requests" and weaker["work_limit_mb"] == CAP_MB
    for case in ("fill_tmp", "fill_work"):
        told = _told(results(bwrap_run, case))
        assert "/tmp holds at most %d MB" % CAP_MB in told and "work folder %d MB" % CAP_MB in told


def test_a_victim_report_is_the_graders_own(bwrap_run):
    """correct_1's results.json, the links' main target, is its own full-marks report."""
    data = results(bwrap_run, "correct_1")
    assert data["score"] == corpus.CI_POINTS
    assert not (bwrap_run["grades"] / "correct_1" / "results.json").is_symlink()
    assert Path(bwrap_run["grades"] / "correct_1" / "results.json").stat().st_nlink == 1
