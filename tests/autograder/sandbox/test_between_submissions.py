"""Nothing one sandbox leaves reaches a later one (issue 22 point 2): the seccomp filter
refuses keyrings and POSIX message queues, the unshare level gets a private /dev/shm, each
level records what it guarantees, and a uid slot is scrubbed of its processes, SysV IPC
objects and shared temp files when it is claimed and released. The whole attack, graded
as submissions, is tests/hostile/test_no_channel.py."""
import ctypes
import errno
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import pytest

from autograder.sandbox import host, isolation, scrub, syscall_filter, uids
from autograder.sandbox.isolation import available_level, between_submissions, level_of, plan
from autograder.sandbox.limits import Limits
from autograder.sandbox.session import SOLUTIONS_DIR, WorkerSession
from autograder.sandbox.syscall_filter import Filter
from tests.autograder.sandbox.test_sandbox import make_nndl

ROOT = os.geteuid() == 0
RUN = "autograder.sandbox.tasks:run_function"
NUMBERS = {"x86_64": {"add_key": 248, "request_key": 249, "keyctl": 250, "mq_open": 240,
                      "read": 0, "openat": 257, "socket": 41},
           "aarch64": {"add_key": 217, "request_key": 218, "keyctl": 219, "mq_open": 180,
                       "read": 63, "openat": 56, "socket": 198}}
MACHINE = os.uname().machine

# Tries each kernel object a later sandbox could find; prints {name: errno or 0}.
TRY_OBJECTS = r'''
import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
n = json.loads(sys.argv[1])
out = {}
def attempt(name, result):
    out[name] = ctypes.get_errno() if result < 0 else 0
attempt("add_key", libc.syscall(n["add_key"], b"user", b"probe", b"x", 1, -4))
attempt("keyctl", libc.syscall(n["keyctl"], 0, -4, 1))
attempt("request_key", libc.syscall(n["request_key"], b"user", b"probe", None, 0))
attempt("mq_open", libc.mq_open(b"/probe-%d" % os.getpid(), os.O_CREAT | os.O_RDWR, 0o600, None))
attempt("open", os.open("/dev/null", os.O_RDONLY))
print(json.dumps(out))
'''


def _run_filtered(machine_numbers):
    active = Filter()
    proc = subprocess.run([sys.executable, "-c", TRY_OBJECTS, __import__("json").dumps(
        machine_numbers)], preexec_fn=lambda: active.install(no_new_privs=not ROOT),
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return __import__("json").loads(proc.stdout)


@pytest.mark.skipif(MACHINE not in NUMBERS, reason="no syscall table for this machine")
def test_the_filter_refuses_keyrings_and_message_queues_only():
    result = _run_filtered(NUMBERS[MACHINE])
    assert result == {"add_key": errno.EPERM, "keyctl": errno.EPERM,
                      "request_key": errno.EPERM, "mq_open": errno.EPERM, "open": 0}


def _bpf(code, arch, nr):
    """Run a seccomp BPF program (the few opcodes syscall_filter uses) on (arch, nr)."""
    data = {0: nr, 4: arch}
    instructions = [struct.unpack("=HBBI", code[i:i + 8]) for i in range(0, len(code), 8)]
    pc, acc = 0, 0
    while True:
        op, jt, jf, k = instructions[pc]
        pc += 1
        if op == syscall_filter.LD_ABS:
            acc = data[k]
        elif op == syscall_filter.AND:
            acc &= k
        elif op == syscall_filter.JEQ:
            pc += jt if acc == k else jf
        elif op == syscall_filter.RET:
            return "deny" if k == syscall_filter.SECCOMP_RET_ERRNO | errno.EPERM else \
                "allow" if k == syscall_filter.SECCOMP_RET_ALLOW else k
        else:
            raise AssertionError("unexpected opcode %#x" % op)


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_the_program_refuses_the_calls_in_the_native_and_compat_abis(machine):
    code = syscall_filter.program(machine)
    for arch, mask, numbers in syscall_filter.ABIS[machine]:
        for name, number in numbers.items():
            assert _bpf(code, arch, number) == "deny", (machine, hex(arch), name)
        for other in (0, 1, 59, 231, max(numbers.values()) + 1):
            if other not in numbers.values():
                assert _bpf(code, arch, other) == "allow", (machine, hex(arch), other)
    if machine == "x86_64":   # the x32 ABI: the same numbers with bit 30 set
        assert _bpf(code, 0xC000003E, 250 | syscall_filter.X32_SYSCALL_BIT) == "deny"
        assert _bpf(code, 0xC000003E, 0 | syscall_filter.X32_SYSCALL_BIT) == "allow"
    assert _bpf(code, 0x12345678, 250) == "allow"   # an arch the kernel cannot run here


def test_an_unknown_machine_gets_no_filter_and_says_so():
    assert syscall_filter.program("riscv64") == b"" and not syscall_filter.supported("riscv64")
    assert not Filter("riscv64").active


@pytest.mark.parametrize("name, drop, expected", [
    ("bwrap", True, "private"), ("bwrap", False, "private"), ("unshare", False, "private"),
    ("rlimits", True, "scrubbed"), ("rlimits", False, "shared")])
def test_each_level_says_what_persists_between_submissions(name, drop, expected):
    assert between_submissions(level_of(name), drop) == expected
    # where keyrings cannot be refused, nothing is private
    assert between_submissions(level_of(name), drop, filtered=False) == "shared"


def _layout(tmp_path):
    for name in ("work", "shared"):
        (tmp_path / name).mkdir(exist_ok=True)
    return isolation.Layout(code_dir=str(tmp_path / "code"), work_dir=str(tmp_path / "work"),
                            shared_dir=str(tmp_path / "shared"), kit_dirs={})


@pytest.mark.skipif(not syscall_filter.supported(), reason="no syscall table for this machine")
def test_the_protections_record_the_filter_on_isolated_levels_only(tmp_path):
    assert plan("rlimits", _layout(tmp_path), Limits(), [])\
        .protections["keyrings_blocked"] is True
    none = plan("none", _layout(tmp_path), Limits(), []).protections
    assert none["keyrings_blocked"] is False and none["between_submissions"] is None


def test_the_unshare_plan_covers_the_hosts_world_writable_dev_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(host, "shared_dev_folders", lambda: ["/dev/shm", "/dev/mqueue"])
    launch = plan("unshare", _layout(tmp_path), Limits(tmp_bytes=32 << 20), [])
    script = launch.argv[launch.argv.index("-c") + 1]
    assert "mount -t tmpfs -o size=%d,mode=1777 none /dev/shm" % (32 << 20) in script
    assert "mount -t tmpfs -o size=4k,mode=000 none /dev/mqueue" in script
    # the private mounts come before the read-only pass (which skips /dev)
    assert script.index("/dev/shm") < script.index("remount,bind,ro")


# -- in a real sandbox -------------------------------------------------------------------------
LEAVER = r'''
import ctypes, os

def add_key():
    libc = ctypes.CDLL(None, use_errno=True)
    number = {"x86_64": 248, "aarch64": 217}[os.uname().machine]
    if libc.syscall(number, b"user", b"left-behind", b"x", 1, -4) < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return "stored"

def leave_in_dev_shm(name):
    with open(os.path.join("/dev/shm", name), "w") as f:
        f.write("left")
    return "stored"

def listing(folder):
    return sorted(os.listdir(folder))
'''


def _levels():
    levels = ["rlimits"]
    if ROOT and shutil.which("unshare") and isolation._unshare_works():
        levels.append("unshare")
    if available_level() == "bwrap":
        levels.append("bwrap")
    return levels


def _session(tmp_path, level, name):
    os.chmod(tmp_path, 0o711)
    nndl = make_nndl(tmp_path / ("submission-" + name), {"leaver": LEAVER})
    return WorkerSession(tmp_path / ("session-" + name), nndl, level,
                         Limits(memory_mb=2048, output_bytes=64 * 1024), hidden=[SOLUTIONS_DIR])


def _call(session, function, args=()):
    return session.call(RUN, {"function": "leaver:" + function, "args": list(args)}, 30)


@pytest.mark.skipif(MACHINE not in NUMBERS, reason="no syscall table for this machine")
@pytest.mark.parametrize("level", _levels())
def test_a_sandbox_cannot_put_a_key_in_any_keyring(tmp_path, level):
    session = _session(tmp_path, level, "a")
    try:
        reply, _ = _call(session, "add_key")
        assert reply.status == "error" and "Operation not permitted" in reply.message, reply
        assert session.protections["keyrings_blocked"] is True
    finally:
        session.close()


@pytest.mark.skipif("unshare" not in _levels(), reason="needs root and util-linux unshare")
def test_the_unshare_level_has_a_private_dev_shm(tmp_path):
    name = "left-%d" % os.getpid()
    first = _session(tmp_path, "unshare", "first")
    try:
        reply, result = _call(first, "leave_in_dev_shm", [name])
        assert reply.status == "ok", reply
    finally:
        first.close()
    assert not os.path.exists(os.path.join("/dev/shm", name))
    second = _session(tmp_path, "unshare", "second")
    try:
        reply, result = _call(second, "listing", ["/dev/shm"])
        assert reply.status == "ok" and name not in result["result"], reply
    finally:
        second.close()


# -- scrubbing a uid ---------------------------------------------------------------------------
LEAVE_EVERYTHING = r'''
set -e
cd "$1"
echo left > file
mkdir own_folder && echo left > own_folder/inner
ln -s "$2" link_to_outside
echo left > open_folder/nested
ipcmk -M 4096 >/dev/null && ipcmk -Q >/dev/null && ipcmk -S 1 >/dev/null
setsid sleep 300 </dev/null >/dev/null 2>&1 &
setsid sh -c 'sleep 300 & sleep 300' </dev/null >/dev/null 2>&1 &
sleep 0.2
'''


@pytest.fixture
def shared_folder():
    """A world-writable folder under /tmp (reachable by any uid), as root's."""
    folder = tempfile.mkdtemp(prefix="scrub-test-", dir="/tmp")
    os.chmod(folder, 0o1777)
    os.mkdir(os.path.join(folder, "open_folder"))
    os.chmod(os.path.join(folder, "open_folder"), 0o1777)
    with open(os.path.join(folder, "roots_file"), "w") as f:
        f.write("root's")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _leave_everything(uid, folder, outside):
    subprocess.run(["/bin/sh", "-c", LEAVE_EVERYTHING, "sh", folder, outside], user=uid,
                   group=uid, extra_groups=[], check=True, timeout=30)


@pytest.mark.skipif(not ROOT or not shutil.which("ipcmk"), reason="needs root and ipcmk")
def test_scrubbing_a_uid_leaves_nothing_of_it_and_everything_else(shared_folder, tmp_path):
    slot = uids.claim_uid()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    try:
        _leave_everything(slot.uid, shared_folder, str(outside))
        assert len(scrub.processes_of(slot.uid)) >= 3
        assert len(scrub.ipc_objects_of(slot.uid)) == 3
        assert scrub.scrub_uid(slot.uid, folders=[shared_folder]) == []
        assert scrub.processes_of(slot.uid) == [] and scrub.ipc_objects_of(slot.uid) == []
        assert sorted(os.listdir(shared_folder)) == ["open_folder", "roots_file"]
        assert os.listdir(os.path.join(shared_folder, "open_folder")) == []
        assert outside.read_text() == "keep me"
    finally:
        slot.release()


@pytest.mark.skipif(not ROOT or not shutil.which("ipcmk"), reason="needs root and ipcmk")
def test_a_slot_is_scrubbed_when_released_and_again_when_claimed(monkeypatch, tmp_path):
    folder = tempfile.mkdtemp(prefix="scrub-slot-", dir="/tmp")
    os.chmod(folder, 0o1777)
    os.mkdir(os.path.join(folder, "open_folder"), 0o777)
    os.chmod(os.path.join(folder, "open_folder"), 0o1777)
    monkeypatch.setattr(scrub, "shared_folders", lambda: [folder])
    try:
        slot = uids.claim_uid()
        uid = slot.uid
        _leave_everything(uid, folder, str(tmp_path))
        slot.release()
        assert scrub.processes_of(uid) == [] and scrub.ipc_objects_of(uid) == []
        assert os.listdir(folder) == ["open_folder"]
        # A grader killed mid-session left a file of the uid: the next claim deletes it.
        left = os.path.join(folder, "left-by-a-killed-grader")
        with open(left, "w") as f:
            f.write("left")
        os.chown(left, uid, uid)
        again = uids.claim_uid()
        try:
            assert again.uid == uid and not os.path.exists(left)
        finally:
            again.release()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
