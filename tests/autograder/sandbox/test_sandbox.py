"""The sandbox: student code misbehaving in every way costs one request, never the grader."""
import os
import shutil
import time

import numpy as np
import pytest

from autograder.sandbox import arrays
from autograder.sandbox.isolation import available_level
from autograder.sandbox.limits import Limits
from autograder.sandbox.session import KIT_ROOT, SOLUTIONS_DIR, WorkerSession

LEVEL = available_level()
RUN = "autograder.sandbox.tasks:run_function"

HOSTILE = r'''
import os, sys, time, socket
import numpy as np

def loop():
    while True:
        pass

def hard_exit():
    os._exit(3)

def soft_exit():
    sys.exit(2)

def interrupt():
    raise KeyboardInterrupt

def huge_print():
    chunk = "x" * 1000000
    for _ in range(100):
        print(chunk)
    return 1

def allocate():
    return np.ones(8 * 1024 ** 3 // 8).sum()

def fork_bomb():
    children = []
    for _ in range(300):
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        children.append(pid)
    return len(children)

def write_outside(path):
    with open(path, "w") as f:
        f.write("pwned")
    return 1

def read_file(path):
    with open(path) as f:
        return f.read()

def connect():
    socket.create_connection(("1.1.1.1", 80), timeout=3)
    return 1

def loopback_echo():
    # what a notebook kernel needs: a server and a client on 127.0.0.1 inside the sandbox
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=3)
    peer, _ = server.accept()
    client.sendall(b"ping")
    return peer.recv(4) == b"ping"

def object_array():
    return np.array([object()])

def double(x):
    return 2 * x
'''


def make_nndl(folder, files):
    nndl = folder / "nndl"
    nndl.mkdir(parents=True)
    (nndl / "__init__.py").write_text("")
    for name, text in files.items():
        (nndl / (name + ".py")).write_text(text)
    return nndl


@pytest.fixture
def hostile(tmp_path):
    nndl = make_nndl(tmp_path / "submission", {
        "bad": HOSTILE,
        "raises": "x = 1\nraise ZeroDivisionError('at import')\n",
        "syntax": "def f(:\n    pass\n",
        "hangs": "while True:\n    pass\n",
    })
    session = WorkerSession(tmp_path / "session", nndl, LEVEL,
                            Limits(memory_mb=2048, max_processes=32, output_bytes=64 * 1024),
                            hidden=[SOLUTIONS_DIR])
    yield session
    session.close()


def call(session, name, args=(), timeout=20):
    return session.call(RUN, {"function": "bad:" + name, "args": list(args)}, timeout)


def test_reference_round_trip_plain_arrays(hostile):
    reply, result = call(hostile, "double", [np.arange(4.0)])
    assert reply.status == "ok", reply
    np.testing.assert_array_equal(result["result"], np.arange(4.0) * 2)


def test_import_errors_are_reported_with_the_file(hostile):
    reply = hostile.import_module("raises", 20)
    assert reply.status == "error"
    assert "ZeroDivisionError: at import" in reply.message
    assert "nndl/raises.py" in reply.data["traceback"]
    reply = hostile.import_module("syntax", 20)
    assert reply.status == "error" and "SyntaxError" in reply.message


def test_infinite_loop_times_out_and_the_next_request_runs(hostile):
    start = time.monotonic()
    reply = hostile.import_module("hangs", 2)
    assert reply.status == "timeout" and "2 s" in reply.message
    assert time.monotonic() - start < 10
    reply, result = call(hostile, "double", [3])
    assert reply.status == "ok" and result["result"] == 6


@pytest.mark.parametrize("name, status, words", [
    ("hard_exit", "died", "exited with code 3"),
    ("soft_exit", "error", "sys.exit"),
    ("interrupt", "error", "KeyboardInterrupt"),
    ("huge_print", "output_limit", "printed more than 64 KB"),
    ("allocate", "error", "MemoryError"),
    ("object_array", "error", "object array"),
    ("loop", "timeout", "did not finish"),
])
def test_misbehaviour_costs_one_request(hostile, name, status, words):
    reply, result = call(hostile, name, timeout=5)
    assert reply.status == status, reply
    assert words in reply.message
    assert result is None
    reply, result = call(hostile, "double", [1])
    assert reply.status == "ok" and result["result"] == 2


@pytest.mark.skipif(os.geteuid() != 0 and LEVEL != "bwrap", reason="no uid drop / pid namespace")
def test_fork_bomb_is_capped_and_leaves_nothing_running(hostile):
    reply, _ = call(hostile, "fork_bomb", timeout=20)
    assert reply.status == "error" and ("Resource temporarily unavailable" in reply.message
                                        or "BlockingIOError" in reply.message), reply
    uid = hostile.protections["unprivileged_uid"]
    hostile.close()
    time.sleep(0.5)
    if uid is not None:
        assert not _processes_of(uid)


def _processes_of(uid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/status" % entry) as f:
                    if any(line.startswith("Uid:") and int(line.split()[1]) == uid for line in f):
                        found.append(entry)
            except OSError:
                pass
    return found


@pytest.mark.skipif(LEVEL == "rlimits", reason="needs a mount namespace")
def test_cannot_read_solutions_or_write_outside(hostile, tmp_path):
    reference_file = os.path.join(SOLUTIONS_DIR, "nndl", "conv_layers.py")
    reply, _ = call(hostile, "read_file", [reference_file])
    assert reply.status == "error" and ("No such file" in reply.message
                                        or "Permission denied" in reply.message)
    target = os.path.join(KIT_ROOT, "pwned-by-sandbox.txt")
    for path in (target, str(tmp_path / "outside.txt")):
        reply, _ = call(hostile, "write_outside", [path])
        assert reply.status == "error", reply
        assert not os.path.exists(path)


@pytest.mark.skipif(LEVEL == "rlimits", reason="needs a network namespace")
def test_no_network(hostile):
    reply, _ = call(hostile, "connect")
    assert reply.status == "error" and ("unreachable" in reply.message or "OSError" in reply.message)


@pytest.mark.skipif(LEVEL == "rlimits", reason="needs a network namespace")
def test_loopback_works_inside_the_sandbox(hostile):
    reply, result = call(hostile, "loopback_echo")
    assert reply.status == "ok" and result["result"], reply


def test_protections_are_recorded(hostile):
    protections = hostile.protections
    assert protections["level"] == LEVEL
    assert protections["rlimits"]["memory_mb"] == 2048
    if LEVEL == "bwrap":
        assert protections["network_isolated"] and protections["hidden_paths_unreadable"]
    if os.geteuid() == 0:
        assert protections["unprivileged_uid"] is not None


def _frame_parts(frame):
    head_size, npz_size = arrays.check_header(frame[:arrays.HEADER.size], 1 << 40)
    head = frame[arrays.HEADER.size:arrays.HEADER.size + head_size]
    return head, frame[arrays.HEADER.size + head_size:]


def test_frames_round_trip_nested_values():
    value = {"a": np.arange(3, dtype=np.float32), "t": (1, 2.5, "s", None, True),
             "n": float("nan"), "s": np.float32(1.5), "l": [np.zeros((2, 2))]}
    message, back = arrays.decode(*_frame_parts(arrays.encode({"op": "x"}, value)), 1 << 20)
    assert message == {"op": "x"}
    assert back["a"].dtype == np.float32 and back["t"] == (1, 2.5, "s", None, True)
    assert np.isnan(back["n"]) and back["s"].dtype == np.float32 and back["s"] == 1.5
    np.testing.assert_array_equal(back["l"][0], np.zeros((2, 2)))


def _forged(entries, payload=b"\0" * 64, value=None):
    import json
    head = json.dumps({"message": {"ok": True}, "value": value if value is not None else
                       {"__array__": "a0"}, "arrays": entries}).encode()
    return head, payload


def test_frames_refuse_oversized_pickled_and_malformed_content():
    frame = arrays.encode({"ok": True}, np.zeros(1000))
    with pytest.raises(arrays.FrameError, match="limit"):
        arrays.check_header(frame[:arrays.HEADER.size], 100)
    with pytest.raises(arrays.FrameError, match="limit"):
        arrays.decode(*_frame_parts(frame), 100)
    malformed = [(b"not json", b""), (b"[1, 2]", b""), (b"[" * 100000 + b"]" * 100000, b""),
                 (b'{"message": {}, "value": {"__array__": "missing"}}', b""),
                 (b'{"message": {}, "arrays": [1]}', b"")]
    # object, structured and subarray dtypes (a pickle or an object pointer would be read)
    for dtype in ("|O", "i4,O", "[('a', '<f4')]", "(2,)f4", "V8", "not a dtype", "f" * 40):
        malformed.append(_forged({"a0": [dtype, [1], 0]}))
    # arrays outside the payload, shapes and offsets that are not plain non-negative ints
    for entry in (["<f8", [9], 0], ["<f8", [1], 60], ["<f8", [1], -8], ["<f8", [-1], 0],
                  ["<f8", [True], 0], ["<f8", [1.0], 0], ["<f8", [1] * 40, 0], ["<f8", 1, 0],
                  ["<f8", [1]], ["<f8", [2 ** 62, 2 ** 62], 0]):
        malformed.append(_forged({"a0": entry}))
    for head, payload in malformed:
        with pytest.raises(arrays.FrameError):
            arrays.decode(head, payload, 1 << 20)


def test_decoded_arrays_are_writable_copies_of_what_was_sent():
    sent = {"x": np.arange(12, dtype=np.float32).reshape(3, 4).T, "s": np.float64(2.5),
            "d": np.array(["2020-01-01"], dtype="datetime64[D]"), "e": np.zeros((0, 5)),
            "b": np.array([1, 2], dtype=">i8")}
    frame = arrays.encode({"op": "x"}, sent)
    for head, payload in (_frame_parts(frame), _frame_parts(bytes(frame))):
        _, back = arrays.decode(head, payload, 1 << 20)
        for key, value in sent.items():
            assert np.asarray(back[key]).dtype == value.dtype and np.shape(back[key]) == \
                np.shape(value)
            np.testing.assert_array_equal(back[key], value)
        back["x"][0, 0] = 99.0   # student code may write into its inputs, as with np.load's
        assert sent["x"][0, 0] == 0.0
    with pytest.raises(arrays.PackError):
        arrays.encode({}, np.zeros(2, dtype=[("a", "<f4")]))


def _fallback_levels():
    levels = ["rlimits"]
    if os.geteuid() == 0 and shutil.which("unshare") and shutil.which("setpriv"):
        levels.insert(0, "unshare")
    return levels


@pytest.mark.parametrize("level", _fallback_levels())
def test_fallback_levels_still_contain_failures(tmp_path, level):
    os.chmod(tmp_path, 0o711)
    nndl = make_nndl(tmp_path / "submission", {"bad": HOSTILE})
    session = WorkerSession(tmp_path / "session", nndl, level,
                            Limits(memory_mb=2048, output_bytes=64 * 1024), hidden=[SOLUTIONS_DIR])
    try:
        assert session.protections["level"] == level
        reply, result = call(session, "double", [2])
        assert reply.status == "ok" and result["result"] == 4
        for name, status in (("loop", "timeout"), ("hard_exit", "died"), ("allocate", "error")):
            assert call(session, name, timeout=3)[0].status == status
        if level == "unshare":
            reply, _ = call(session, "read_file", [os.path.join(SOLUTIONS_DIR, "nndl", "cnn.py")])
            assert reply.status == "error"
            assert call(session, "connect")[0].status == "error"
            reply, result = call(session, "loopback_echo")
            assert reply.status == "ok" and result["result"], reply
            target = tmp_path / "outside.txt"
            assert call(session, "write_outside", [str(target)])[0].status == "error"
            assert not target.exists()
    finally:
        session.close()
