"""Every attack class of tests/hostile held in ONE class run beside two reference submissions
(issue 11's done-when): links, FIFOs, forged reply frames, a patched clock, an input cache and
a replaced timed call, lookup tables, the near-duplicate search, every CIFAR-10 copy, filling
/tmp and the work folder, huge and nested notebooks, names in any encoding, markdown
injection, and the first hostile corpus (tests/hostile/combined.py).

Expected: the reference submissions score full marks on every item (the accuracy evaluated by
trusted code); every attack gets a score and a message, costing only the items it breaks;
nothing is written outside the sandbox (the canary folder keeps its bytes and modes, the
repository and /tmp get no file); no report is anything but the grader's own; no secret, no
held-out image, no network peer is reached; no process is left; the gradebook lists every
submission under a safe id.

The full run takes several minutes and is marked slow; the CI run grades one attack of each
class the same way.
"""
import json
import os
import re
import secrets
import time

import numpy as np
import pytest

from autograder.files import csv_cells

from autograder.results import schema as gradescope
from autograder.sandbox.isolation import available_level
from tests.autograder.grade import helpers
from tests.hostile import channel_attacks, combined, corpus, sandbox_attacks, support
from tests.hostile.test_corpus import Listener
from tests.hostile.test_sandbox_integrity import _host_files, _second_cifar_copy, snapshot

SEED = 20261202
CORRECT = 2
CAP_MB = 64
SAFE_ID = re.compile(r"^[A-Za-z0-9@+_][A-Za-z0-9._@+-]*$")

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or available_level() != "bwrap",
                                reason="runs as root with bubblewrap, as CI does")


def accuracy_thresholds(fixture_model, cifar10_dir, item):
    """Thresholds that give the fixture model (about 25%) full credit and chance-level weights
    (about 10%) none, with no held-out margin: computed here from the model itself."""
    from cs231n.model_io import load_model
    from autograder.checks.loading import load_nndl
    from autograder.grade import data
    model = load_model(fixture_model, load_nndl(helpers.SOLUTIONS_NNDL)["cnn"].ThreeLayerConvNet)
    splits = data.accuracy_splits(cifar10_dir, seed=SEED,
                                  transform=data.HeldoutTransform.from_spec(item.extras))
    lowest = min(float(np.mean(np.argmax(model.loss(X), axis=1) == y)) for X, y in splits.values())
    assert lowest > 0.19, "the fixture model learned too little: %.3f" % lowest
    return {"full_credit_at": round(lowest - 0.02, 3), "zero_credit_at": 0.15,
            "heldout_margin": 0.0}


def _spec(path, fixture_model, cifar10_dir):
    from autograder.spec import load_spec
    overrides = {item: {"time_limit": 6.0} for item in corpus.ALL}
    thresholds = accuracy_thresholds(fixture_model, cifar10_dir,
                                     load_spec().item(corpus.ACCURACY))
    overrides[corpus.ACCURACY] = dict(thresholds, time_limit=60.0)
    overrides[combined.TIMING] = {"time_limit": 40.0}
    return str(helpers.spec_with(path, overrides, settings=dict(tmp_limit_mb=CAP_MB,
                                                                work_limit_mb=CAP_MB)))


def _class_run(root, fixture_model, cifar10_dir, small):
    token = secrets.token_hex(6)
    classroom, grades = root / "class", root / "grades"
    canary, secret, earlier = _host_files(root, token)
    copy = _second_cifar_copy(root / "cifar-copy", cifar10_dir)
    from cs231n.data_utils import DEFAULT_CIFAR10_DIR
    victim = str(grades / "correct_1" / "results.json")
    aims = sandbox_attacks.Aims(canary=str(canary), secret=str(secret),
                                earlier_results=str(earlier), victim_results=victim,
                                cifar_dirs=(str(copy), str(cifar10_dir), str(DEFAULT_CIFAR10_DIR)))
    listener = Listener()
    targets = corpus.Targets(canary=str(canary), victim_results=victim, port=listener.port,
                             token=token, cifar_dir=str(cifar10_dir))
    expectations = combined.build(classroom, fixture_model, aims, targets, cifar10_dir, small)
    correct = corpus.build_correct(classroom, fixture_model, CORRECT)
    spec = _spec(root / "grading.toml", fixture_model, cifar10_dir)
    before = snapshot(canary)
    tmpdir = root / ("tmp-" + token)
    tmpdir.mkdir()
    start = time.monotonic()
    # --published: the messages match the full "Score: N / N" line (before publication the
    # top-level output gives only the visible items' score; tests/autograder/report covers that).
    proc = support.grade_command(classroom, "--out", grades, "--spec", spec, "--items",
                                 combined.ITEMS, "--cifar-dir", copy, "--seed", SEED, "--published",
                                 env={"TMPDIR": str(tmpdir), "AUTOGRADER_TEST_MARKER": token},
                                 timeout=3000)
    seconds = time.monotonic() - start
    leftovers = support.leftover_processes(token)
    listener.close()
    print("one class run (%s): %d submissions in %.0f s"
          % ("small" if small else "full", len(expectations) + CORRECT, seconds))
    reports = {}
    for path in grades.glob("*/results.json"):
        data = json.loads(path.read_bytes().decode("utf-8"))
        reports[data["extra_data"]["submission"]] = (path.parent, data)
    return {"proc": proc, "expectations": expectations, "correct": correct, "grades": grades,
            "token": token, "canary": canary, "before": before, "tmpdir": tmpdir,
            "listener": listener, "leftovers": leftovers, "reports": reports,
            "total": len(expectations) + CORRECT, "seconds": seconds}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory, fixture_model, cifar10_dir):
    return _class_run(tmp_path_factory.mktemp("one-run-small"), fixture_model, cifar10_dir, True)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, fixture_model, cifar10_dir):
    return _class_run(tmp_path_factory.mktemp("one-run-full"), fixture_model, cifar10_dir, False)


RUNS = ["small_run", pytest.param("full_run", marks=pytest.mark.slow)]


def _told(data):
    return data["output"] + "\n" + "\n".join(t["output"] for t in data["tests"])


@pytest.mark.parametrize("run_name", RUNS)
def test_the_run_completes_with_a_complete_gradebook(request, run_name):
    run = request.getfixturevalue(run_name)
    proc, total = run["proc"], run["total"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Graded: %d of %d submissions" % (total, total) in proc.stdout
    rows = (run["grades"] / "gradebook.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == total + 1
    # a formula-like id is written as text (a leading ', issue 22): the id is what follows
    ids = [csv_cells.original(row.split(",")[0]) for row in rows[1:]]
    assert len({i.lower() for i in ids}) == total and all(SAFE_ID.match(i) for i in ids), ids
    assert len(run["reports"]) == total
    summary = (run["grades"] / "summary.md").read_text(encoding="utf-8")
    assert "Graded: %d of %d submissions" % (total, total) in summary


@pytest.mark.parametrize("run_name", RUNS)
def test_the_reference_submissions_score_full_marks(request, run_name):
    run = request.getfixturevalue(run_name)
    for name in run["correct"]:
        _, data = run["reports"][name]
        assert all(t["status"] == "passed" for t in data["tests"]), _told(data)[:3000]
        assert data["score"] == sum(t["max_score"] for t in data["tests"]) > 0
        assert {t["extra_data"]["item"] for t in data["tests"]} == set(combined.EVERY_ITEM)
        accuracy = data["extra_data"]["accuracy"]
        assert accuracy["heldout_evaluation"] == "trusted" and not accuracy["needs_review"]


@pytest.mark.parametrize("run_name", RUNS)
def test_every_attack_gets_a_score_and_a_message(request, run_name):
    run = request.getfixturevalue(run_name)
    failures = []
    for expected in run["expectations"]:
        if expected.shown not in run["reports"]:
            failures.append("%s: no report" % expected.what)
            continue
        _, data = run["reports"][expected.shown]
        assert gradescope.validate(data) == [], expected.what
        scores = {t["extra_data"]["item"]: (t["score"], t["max_score"]) for t in data["tests"]}
        wrong = ["%s should be 0, got %s" % (i, scores[i][0]) for i in expected.zero
                 if scores[i][0]]
        wrong += ["%s should be full, got %s" % (i, scores[i][0]) for i in expected.full
                  if scores[i][0] != scores[i][1]]
        if not re.search(expected.message, _told(data), re.S):
            wrong.append("no message matching %r" % expected.message)
        if data["extra_data"].get("grader_error"):
            wrong.append("grader error: %s" % data["extra_data"]["grader_error"][:300])
        accuracy = data["extra_data"].get("accuracy") or {}
        if expected.evaluation and accuracy.get("heldout_evaluation") != expected.evaluation:
            wrong.append("held-out evaluation %r" % accuracy.get("heldout_evaluation"))
        if expected.review is not None and accuracy.get("needs_review") is not expected.review:
            wrong.append("needs_review %r" % accuracy.get("needs_review"))
        if wrong:
            failures.append("%s (%s): %s\n%s" % (expected.shown, expected.what, "; ".join(wrong),
                                                 _told(data)[:1500]))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("run_name", RUNS)
def test_nothing_is_written_outside_the_sandbox(request, run_name):
    run = request.getfixturevalue(run_name)
    token = run["token"]
    assert snapshot(run["canary"]) == run["before"]   # bytes and modes (the 0600 secret too)
    assert list(run["tmpdir"].iterdir()) == []
    assert not list(support.REPO_ROOT.glob("*%s*" % token))
    assert not list((support.REPO_ROOT / "solutions" / "nndl").glob("*%s*" % token))
    assert not os.path.exists("/tmp/hostile_%s.txt" % token)
    # the channel writer's marker: no file in the shared folders, no key (issue 22)
    mark = "channel-" + token
    for folder in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock"):
        if os.path.isdir(folder):
            assert not [name for name in os.listdir(folder) if mark in name], folder
    assert channel_attacks.marker_files(mark) == []   # anywhere on the host's writable trees
    with open("/proc/keys") as f:
        assert mark not in f.read()


@pytest.mark.parametrize("run_name", RUNS)
def test_no_report_is_anything_but_the_graders_own(request, run_name):
    run = request.getfixturevalue(run_name)
    for path in run["grades"].rglob("*"):
        assert not path.is_symlink(), path
        if path.is_file():
            assert path.stat().st_nlink == 1, path
    victim = run["grades"] / "correct_1" / "results.json"
    data = json.loads(victim.read_text())
    assert data["extra_data"]["submission"] == "correct_1"
    assert data["score"] == sum(t["max_score"] for t in data["tests"])


@pytest.mark.parametrize("run_name", RUNS)
def test_no_secret_is_read_and_no_peer_reached(request, run_name):
    run = request.getfixturevalue(run_name)
    secret = "secret " + run["token"]
    for path in run["grades"].rglob("*"):
        if path.is_file():
            text = path.read_bytes()
            assert secret.encode() not in text and b"LEAKED" not in text, path
    assert run["listener"].accepted == 0


@pytest.mark.parametrize("run_name", RUNS)
def test_no_process_is_left_running(request, run_name):
    assert request.getfixturevalue(run_name)["leftovers"] == []


@pytest.mark.parametrize("run_name", RUNS)
def test_no_csv_cell_is_a_formula(request, run_name):
    """Submissions named like formulas (+1+1, @SUM(A1), =HYPERLINK(1)) appear in every CSV the
    run writes as text: no cell that is not a plain number starts with =, +, -, @, a tab or a
    carriage return (issue 22)."""
    import csv
    from autograder.files.csv_cells import is_formula
    run = request.getfixturevalue(run_name)
    written = sorted(run["grades"].glob("*.csv"))
    assert any(path.name == "gradebook.csv" for path in written)
    for path in written:
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                risky = [cell for cell in row if is_formula(cell)]   # plain numbers stay numbers
                assert not risky, (path.name, risky)
    assert "'+1+1" in (run["grades"] / "gradebook.csv").read_text(encoding="utf-8")
