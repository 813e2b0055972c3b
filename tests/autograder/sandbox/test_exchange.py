"""The grader's exchange with a worker: frames over pipes with caps and deadlines, files it
writes that no planted link redirects, the sandbox's disk caps, the trained-model reader."""
import os
import re
import shutil

import numpy as np
import pytest

from autograder.sandbox import process, tasks
from autograder.sandbox.isolation import available_level
from autograder.sandbox.limits import Limits
from autograder.sandbox.session import WorkerSession

LEVEL = available_level()
RUN = "autograder.sandbox.tasks:run_function"
AS_ROOT = os.geteuid() == 0

EXCHANGE = r'''
import os, struct, time

def plant_links(target):
    """Links at the names the grader writes, in the work folder and (if it can) the shared one."""
    planted = []
    for folder in (os.getcwd(), "/sandbox/shared",
                   os.path.join(os.path.dirname(os.getcwd()), "shared")):
        for name in ("cnn_model.npz", "spec.toml", "CNN.ipynb"):
            try:
                os.symlink(target, os.path.join(folder, name))
                planted.append(os.path.join(folder, name))
            except OSError:
                pass
    return planted

def read_bytes(path):
    with open(path, "rb") as f:
        return f.read().decode()

def write_into(folder, name):
    with open(os.path.join(folder, name), "w") as f:
        f.write("planted")
    return 1

def forge(head_size, npz_size):
    header = struct.pack(">QQ", head_size, npz_size)
    for fd in range(3, 64):
        try:
            os.write(fd, header + b'{"mess')
        except OSError:
            pass
    time.sleep(60)

def fill(folder, mb):
    with open(os.path.join(folder, "filler.bin"), "wb") as f:
        for _ in range(mb):
            f.write(b"x" * (1 << 20))
    return mb

def stop_reading_requests():
    """Swap the worker's request pipe for one nobody writes to."""
    for fd in range(3, 64):
        try:
            if os.readlink("/proc/self/fd/%d" % fd).startswith("pipe:") and \
                    os.get_blocking(fd) and (os.stat(fd).st_mode & 0o170000) == 0o010000:
                import fcntl
                if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY:
                    read_end, _ = os.pipe()
                    os.dup2(read_end, fd)
        except OSError:
            pass
    return 1

def fill_slowly(folder, mb):
    with open(os.path.join(folder, "slow.bin"), "wb") as f:
        for _ in range(mb):
            f.write(b"x" * (1 << 20))
            f.flush()
            time.sleep(0.2)
    return mb

def zeros(n):
    import numpy as np
    return np.zeros(n)

def refault(mb, rounds):
    """Page faults of allocating, filling and freeing an mb-MB array, after the first round."""
    import resource
    import numpy as np
    faults = []
    for _ in range(rounds):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        a = np.empty(mb << 17)
        a.fill(1.0)
        del a
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    return faults[1:]
'''


def make_nndl(folder):
    nndl = folder / "nndl"
    nndl.mkdir(parents=True)
    (nndl / "__init__.py").write_text("")
    (nndl / "exchange.py").write_text(EXCHANGE)
    return nndl


def session_for(tmp_path, level=LEVEL, **limits):
    os.chmod(tmp_path, 0o711)
    nndl = make_nndl(tmp_path / "submission")
    limits = Limits(memory_mb=2048, output_bytes=64 * 1024, **limits)
    return WorkerSession(tmp_path / "session", nndl, level, limits)


def call(session, name, args=(), timeout=20):
    return session.call(RUN, {"function": "exchange:" + name, "args": list(args)}, timeout)


@pytest.fixture
def sandboxed(tmp_path):
    session = session_for(tmp_path)
    yield session
    session.close()


@pytest.mark.parametrize("level", sorted({LEVEL, "rlimits"}))
def test_files_for_the_worker_never_go_through_a_planted_link(tmp_path, level):
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    os.chmod(victim, 0o600)
    session = session_for(tmp_path, level=level)
    try:
        reply, planted = call(session, "plant_links", [str(victim)])
        assert reply.status == "ok" and planted["result"], reply
        for name in ("cnn_model.npz", "spec.toml"):
            inside = session.write_file(name, b"the grader's bytes")
            reply, result = call(session, "read_bytes", [inside])
            assert reply.status == "ok" and result["result"] == "the grader's bytes"
        assert victim.read_text() == "untouched" and (victim.stat().st_mode & 0o777) == 0o600
    finally:
        session.close()


def test_write_file_takes_plain_names_only(sandboxed):
    for name in ("../x", "a/b", "", ".."):
        with pytest.raises(ValueError):
            sandboxed.write_file(name, b"")
    assert sandboxed.write_file("m.npz", b"1") != sandboxed.write_file("m.npz", b"2")


@pytest.mark.skipif(not AS_ROOT, reason="the weaker levels keep the sandbox out only with a uid drop")
@pytest.mark.parametrize("level", sorted({LEVEL, "rlimits"}))
def test_the_sandbox_cannot_write_the_folder_the_grader_fills(tmp_path, level):
    session = session_for(tmp_path, level=level)
    try:
        if level != "bwrap" and session.protections["unprivileged_uid"] is None:
            # Root without capabilities still owns root's files: reported, not claimed.
            assert not session.protections["grader_files_read_only"]
            pytest.skip("no uid drop here (the Python install is not reachable by other uids)")
        inside = session.write_file("spec.toml", b"x")
        folder = os.path.dirname(inside)
        for where in (folder, os.path.dirname(folder)):
            reply, _ = call(session, "write_into", [where, "planted.txt"])
            assert reply.status == "error" and ("Read-only" in reply.message
                                                or "Permission denied" in reply.message), reply
        assert session.protections["grader_files_read_only"]
    finally:
        session.close()


@pytest.mark.parametrize("sizes, status, words", [
    ((1 << 40, 1 << 40), "died", "unreadable reply"),
    ((1000, 0), "timeout", "did not finish within 3 s"),
])
def test_a_forged_reply_frame_costs_one_request(sandboxed, sizes, status, words):
    reply, result = call(sandboxed, "forge", list(sizes), timeout=3)
    assert reply.status == status and words in reply.message, reply
    assert result is None
    reply, result = call(sandboxed, "zeros", [3])
    assert reply.status == "ok" and result["result"].shape == (3,)


def test_a_reply_over_the_cap_is_refused_unread(sandboxed, monkeypatch):
    monkeypatch.setattr(process, "MAX_REPLY_BYTES", 100_000)
    reply, result = call(sandboxed, "zeros", [1 << 20])
    assert reply.status == "died" and "unreadable reply" in reply.message and result is None
    reply, result = call(sandboxed, "zeros", [10])
    assert reply.status == "ok"


def test_a_worker_that_stops_reading_cannot_block_the_grader(sandboxed):
    reply, _ = call(sandboxed, "stop_reading_requests")
    assert reply.status == "ok", reply
    reply, _ = sandboxed.call(RUN, {"function": "exchange:zeros",
                                    "args": [np.zeros(1 << 20)]}, 3)
    assert reply.status == "timeout", reply   # the send itself ran against the deadline
    assert call(sandboxed, "zeros", [2])[0].status == "ok"


@pytest.mark.skipif(LEVEL != "bwrap", reason="sized tmpfs mounts need bubblewrap")
@pytest.mark.parametrize("folder", ["/tmp", "."])
def test_tmp_and_work_folder_caps_are_a_message(tmp_path, folder):
    session = session_for(tmp_path, tmp_bytes=16 << 20, work_bytes=16 << 20)
    try:
        reply, _ = call(session, "fill", [folder, 40])
        assert reply.status == "error", reply
        assert "No space left on device" in reply.message
        assert "/tmp holds at most 16 MB" in reply.message and "work folder 16 MB" in reply.message
        assert call(session, "zeros", [2])[0].status == "ok"
        assert os.listdir(session.host_work) == []   # nothing of it reached the host's disk
    finally:
        session.close()


@pytest.mark.skipif(not (AS_ROOT and shutil.which("unshare") and shutil.which("setpriv")),
                    reason="the unshare level needs root, unshare and setpriv")
def test_unshare_level_work_folder_is_a_sized_tmpfs(tmp_path):
    session = session_for(tmp_path, level="unshare", work_bytes=16 << 20)
    try:
        reply, _ = call(session, "fill", [".", 40])
        assert reply.status == "error" and "No space left on device" in reply.message, reply
        assert "work folder 16 MB" in reply.message
        assert "Read-only" in call(session, "fill", ["/tmp", 1])[0].message
        assert os.listdir(session.host_work) == [] and session.protections["work_limit"] == "tmpfs"
    finally:
        session.close()


def test_work_folder_is_checked_between_requests_without_bwrap(tmp_path):
    session = session_for(tmp_path, level="rlimits", work_bytes=8 << 20)
    try:
        reply, _ = call(session, "fill", [".", 12])
        assert reply.status == "error" and "grew past its limit of 8 MB" in reply.message, reply
        assert os.listdir(session.host_work) == []
        reply, result = call(session, "fill", [".", 2])
        assert reply.status == "ok" and result["result"] == 2
        # within one request too: stopped while it writes (near the cap), not once it is done
        reply, _ = call(session, "fill_slowly", [".", 100], timeout=60)
        assert reply.status == "error" and "grew past its limit of 8 MB" in reply.message, reply
        assert int(re.search(r"limit of 8 MB \((\d+) MB\)", reply.message).group(1)) < 50
        assert session.protections["work_limit"] == "checked between requests"
    finally:
        session.close()


def test_the_trained_model_reader_refuses_links_pipes_and_big_files(tmp_path):
    (tmp_path / "secret").write_bytes(b"host secret")
    (tmp_path / "model.npz").write_bytes(b"model bytes")
    os.symlink(tmp_path / "secret", tmp_path / "link.npz")
    os.mkfifo(tmp_path / "fifo.npz")
    with open(tmp_path / "big.npz", "wb") as f:
        f.truncate(2000)
    data, problem = tasks.read_saved_file(str(tmp_path), "model.npz", 1000)
    assert problem == "" and data.tobytes() == b"model bytes"
    assert tasks.read_saved_file(str(tmp_path), "missing.npz", 1000) == (None, "")
    for name, words in (("link.npz", "cannot be opened"), ("fifo.npz", "not a regular file"),
                        ("big.npz", "larger than")):
        # (the pipe's open must not wait for a writer: a blocking open would hang here)
        data, problem = tasks.read_saved_file(str(tmp_path), name, 1000)
        assert data is None and words in problem, (name, problem)


@pytest.mark.parametrize("level", ["none", LEVEL])
def test_big_arrays_are_not_faulted_in_again_each_time(tmp_path, level):
    """A freed 128 MB array stays in the worker's heap (isolation.MALLOC_ENV): the next one of
    that size reuses its pages instead of mapping, faulting in and zeroing fresh ones (about
    65 faults even with huge pages, one per 2 MB page, 32,768 without them)."""
    session = session_for(tmp_path, level=level)
    try:
        reply, result = call(session, "refault", [128, 3])
        assert reply.status == "ok", reply
        assert max(result["result"]) < 16, result
    finally:
        session.close()
