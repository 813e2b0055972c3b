"""A class on a real Dask cluster, set up as the README says: `dask scheduler` and `dask worker`
processes running the kit installed non-editable (no solutions/ on the workers), graded by the
instructor's `grade --dask-scheduler`, with the outputs of a local run."""
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.autograder.batch.test_class_run import comparable, points_of, small_class
from tests.hostile import corpus, support

ITEMS = ",".join((corpus.CONV, corpus.POOL, corpus.ACCURACY))
# Dask warns when a task graph is bigger than 10 MB; a submission above that must travel as data.
BIG_NOTEBOOK_BYTES = 12 << 20


def installed_kit(dest):
    """The kit as `pip install .` installs it into site-packages, in dest: setup.py's own build
    of its packages and package data from a copy of the files its sdist takes (no solutions/),
    and the compiled kernel (already built here: compiling it again takes minutes)."""
    from autograder.gradescope.build import KIT_FILES, KIT_TREES, SKIP
    import cs231n.im2col_cython as kernel
    source = dest.parent / "kit-source"
    for name in KIT_FILES:
        source.mkdir(parents=True, exist_ok=True)
        shutil.copy2(support.REPO_ROOT / name, source / name)
    for name in KIT_TREES:
        shutil.copytree(support.REPO_ROOT / name, source / name, ignore=SKIP)
    subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(dest)],
                   cwd=source, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    shutil.copy2(kernel.__file__, dest / "cs231n")
    shutil.rmtree(source)
    assert (dest / "autograder" / "spec" / "grading.toml").is_file()
    assert not list(dest.rglob("solutions")), "the install must not carry the reference"
    return dest


def dask_command():
    """The README's `dask` command of this interpreter's install (`python -m dask` without it)."""
    script = os.path.join(os.path.dirname(sys.executable), "dask")
    return [script] if os.access(script, os.X_OK) else [sys.executable, "-m", "dask"]


def start(command, env, cwd):
    return subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def stop(process):
    """End a process this test started, and its children (its own session)."""
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def test_a_cluster_of_installed_workers_gives_the_local_outputs(tmp_path, fixture_model,
                                                                cifar10_dir):
    distributed = pytest.importorskip("distributed")
    install = installed_kit(tmp_path / "site-packages")
    classroom = tmp_path / "class"
    small_class(classroom, 2, model=fixture_model)
    big = classroom / "student_01" / "CNN.ipynb"
    notebook = json.loads(big.read_text())
    notebook["cells"].append({"cell_type": "markdown", "metadata": {},
                              "source": "a long report " * (BIG_NOTEBOOK_BYTES // 14)})
    big.write_text(json.dumps(notebook))
    spec = support.class_spec(tmp_path / "grading.toml")
    common = ["--spec", spec, "--items", ITEMS, "--seed", "99"]
    data_env = {"CIFAR10_DIR": cifar10_dir}
    local = support.grade_command(classroom, "--out", tmp_path / "local", "--jobs", "2",
                                  *common, env=data_env, timeout=600)
    assert local.returncode == 0, local.stderr[-2000:]

    # The workers see the installed kit only: not the source tree, not the reference.
    cluster_env = dict(os.environ, PYTHONPATH=str(install), **data_env)
    cluster_env.pop("AUTOGRADER_SOLUTIONS", None)
    workdir = tmp_path / "cluster"
    workdir.mkdir()
    scheduler_file = workdir / "scheduler.json"
    scheduler = start(dask_command() + ["scheduler", "--host", "127.0.0.1",
                       "--port", "0", "--no-dashboard", "--scheduler-file",
                       str(scheduler_file)], cluster_env, workdir)
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            assert scheduler.poll() is None and time.monotonic() < deadline, "no scheduler"
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        worker = start(dask_command() + ["worker", address, "--nworkers", "2",
                        "--nthreads", "1", "--memory-limit", "0", "--no-dashboard"],
                       cluster_env, workdir)
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=120)
            homes = client.run(lambda: __import__("autograder").__file__)
        assert all(home.startswith(str(install)) for home in homes.values()), homes
        remote = support.grade_command(classroom, "--out", tmp_path / "dask",
                                       "--dask-scheduler", address, *common, timeout=600)
    finally:
        for process in (worker, scheduler):
            if process is not None:
                stop(process)
    errors = {path.parent.name: json.loads(path.read_text())["extra_data"].get("grader_error")
              for path in (tmp_path / "dask").glob("*/results.json")}
    assert remote.returncode == 0, (remote.stderr[-3000:], errors)
    assert "on the Dask cluster at %s" % address in remote.stderr
    assert "large graph" not in remote.stderr, remote.stderr[-3000:]
    assert "Traceback" not in remote.stderr, remote.stderr[-3000:]
    for name in ("gradebook.csv", "summary.md"):
        assert (tmp_path / "dask" / name).read_text() == (tmp_path / "local" / name).read_text()
    ids = sorted(p.name for p in (tmp_path / "local").iterdir() if p.is_dir())
    assert ids == ["student_00", "student_01", "student_broken"]
    for sid in ids:
        here, there = tmp_path / "local" / sid, tmp_path / "dask" / sid
        assert comparable(json.loads((here / "results.json").read_text())) == \
            comparable(json.loads((there / "results.json").read_text())), sid
        assert (here / "feedback.md").read_text() == (there / "feedback.md").read_text()
    rows = (tmp_path / "dask" / "gradebook.csv").read_text().splitlines()
    top = points_of(ITEMS)
    assert rows[1].startswith("student_00,%d,%d," % (top, top))
    shutil.rmtree(install, ignore_errors=True)


def test_an_unreachable_scheduler_is_one_line_and_a_usage_error(tmp_path):
    pytest.importorskip("distributed")
    classroom = tmp_path / "class"
    small_class(classroom, 1)
    # A port nothing listens on: bound, never listened to, so it stays ours while we try.
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        address = "tcp://127.0.0.1:%d" % taken.getsockname()[1]
        result = support.grade_command(classroom, "--out", tmp_path / "grades",
                                       "--dask-scheduler", address, "--items", corpus.CONV,
                                       timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("autograder grade: cannot reach the Dask scheduler at " + address)
    assert not (tmp_path / "grades").exists()
