"""Shared by the class-run, Dask, Gradescope, export and hostile-corpus tests.

The data set and the fixture model are made once per test process (functools
caches), whichever of these test folders asks first.
"""
import functools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests import cifar_data
from tests.autograder.grade import helpers
from tests.hostile import corpus

REPO_ROOT = helpers.REPO_ROOT
ACCURACY_SCALED = {"full_credit_at": 0.18, "zero_credit_at": 0.10}
SANDBOX_UIDS = range(3_100_000, 3_100_000 + 4096)   # autograder.sandbox.uids


def cifar10_dir():
    """The tests' CIFAR-10 folder as a string (tests/cifar_data.py: real, else synthetic)."""
    return str(cifar_data.cifar10_dir())


@functools.lru_cache(maxsize=1)
def fixture_model():
    """The small trained reference model of the grader tests (about 25% validation accuracy)."""
    path = Path(tempfile.mkdtemp(prefix="fixture-model-")) / "cnn_model.npz"
    helpers.train_fixture_model(path, cifar10_dir())
    return str(path)


def class_spec(path, time_limit=6.0):
    """The kit's spec with the accuracy scaled to the fixture model and short time limits on
    the CI items (the reference gets 2x + 30 s, so only hostile code meets them)."""
    overrides = {item: {"time_limit": time_limit} for item in corpus.ALL}
    overrides[corpus.ACCURACY] = dict(ACCURACY_SCALED, time_limit=60.0)
    return str(helpers.spec_with(path, overrides))


def grade_command(*args, env=None, **kwargs):
    """`python -m autograder grade ...` run from the repository root."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "autograder", "grade"] + [str(a) for a in args],
                          capture_output=True, text=True, cwd=str(REPO_ROOT), env=full_env,
                          **kwargs)


# -- processes ---------------------------------------------------------------------------------
def _read(path, binary=False):
    try:
        with open(path, "rb") as f:
            data = f.read()
        return data if binary else data.decode("utf-8", "replace")
    except OSError:
        return b"" if binary else ""


def _process_table():
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        status = _read("/proc/%s/status" % entry)
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        try:
            uid = int(fields["Uid"].split()[0])
            ppid = int(fields["PPid"].split()[0])
        except (KeyError, ValueError, IndexError):
            continue
        try:
            cwd = os.readlink("/proc/%s/cwd" % entry)
        except OSError:
            cwd = ""
        table[int(entry)] = {"uid": uid, "ppid": ppid, "cwd": cwd,
                             "cmdline": _read("/proc/%s/cmdline" % entry).replace("\0", " "),
                             "environ": _read("/proc/%s/environ" % entry).replace("\0", " ")}
    return table


def _grader_ancestor(pid, table):
    """True if some ancestor of pid is a live grader/test process (not a sandbox uid)."""
    seen = set()
    pid = table[pid]["ppid"]
    while pid > 1 and pid in table and pid not in seen:
        seen.add(pid)
        info = table[pid]
        if info["uid"] not in SANDBOX_UIDS and "python" in info["cmdline"] and (
                "autograder" in info["cmdline"] or "pytest" in info["cmdline"]
                or "distributed" in info["cmdline"] or "dask" in info["cmdline"]):
            return True
        pid = info["ppid"]
    return False


def leftover_processes(marker, wait=10.0):
    """
    Processes of a finished run: any whose command line, environment or folder holds
    `marker`, and any sandbox-uid process that no live grader owns (an orphan). Waits up
    to `wait` seconds for them to go; returns the survivors' descriptions.
    """
    deadline = time.monotonic() + wait
    while True:
        table = _process_table()
        me = os.getpid()
        found = []
        for pid, info in table.items():
            if pid == me:
                continue
            ours = marker in info["cmdline"] or marker in info["environ"] or marker in info["cwd"]
            orphan = info["uid"] in SANDBOX_UIDS and not _grader_ancestor(pid, table)
            if ours or orphan:
                found.append("%d uid=%d %s" % (pid, info["uid"], info["cmdline"][:200]))
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)
