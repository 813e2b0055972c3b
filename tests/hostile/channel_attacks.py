"""Submissions that try to pass data to a later submission (issue 22 point 2).

Every submission of a class run gets the same secret cases, so a channel from one to a
later one is a channel for answers. Each submission here is a reference submission whose
conv_forward_naive (appended to nndl/conv_layers.py) does its part and then raises with
what it did, so its results.json says it:
- the writer stores a marker (a random token of the test) in every place it can reach:
  the session, user, user-session and persistent keyrings (add_key, readable by everyone),
  SysV shared memory, a message queue and a semaphore set, a POSIX message queue, a file in
  /tmp, /var/tmp, /dev/shm, /dev/mqueue, /run/lock, $HOME, $TMPDIR, its work folder and
  (walk=True) every other folder of the visible tree it may write, and a daemon (left its
  session, closed its descriptors) that holds an abstract unix socket and keeps rewriting
  its files -- "CHANNEL WRITER stored: a, b, c";
- the reader searches all of them -- "CHANNEL READER searched N places, found: nothing";
- the self-check does both in one submission, so a search that could not see what was
  stored shows up -- "CHANNEL SELF-CHECK stored N places, missed: nothing".
"""
import os
import re

from tests.hostile.corpus import CONV, POOL, SOFTMAX, CNN_FORWARD, ACCURACY, append, reference

IN_FUNCTION = dict(zero=(CONV,), full=(POOL, SOFTMAX, CNN_FORWARD, ACCURACY))
WRITER_TEXT = re.compile(r"CHANNEL WRITER stored: ([^\n]*)")
READER_TEXT = re.compile(r"CHANNEL READER searched (\d+) places, found: ([^\n]*)")
SELF_TEXT = re.compile(r"CHANNEL SELF-CHECK stored (\d+) places, missed: ([^\n]*)")

CHANNEL = r'''

# ---- issue 22: a channel to later submissions -------------------------------------------
_CH_TOKEN = %(token)r
_CH_MARK = "channel-" + _CH_TOKEN
_CH_WALK = %(walk)r
_CH_COMM = ("ch" + _CH_TOKEN)[:15]
_CH_IPC_KEY = 0x40000000 | (int(_CH_TOKEN[:6], 16) << 4)
_CH_KEYRINGS = (("session keyring", "session", -3), ("user keyring", "user", -4),
                ("user-session keyring", "usersession", -5))
_CH_SYSCALLS = {"x86_64": (248, 250), "aarch64": (217, 219)}
_CH_FIXED = ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue", "/run/lock")


def _ch_libc():
    import ctypes
    import ctypes.util
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    return libc


def _ch_numbers():
    import platform
    return _CH_SYSCALLS.get(platform.machine(), (248, 250))


def _ch_folders():
    """[(label, folder)] to store into or search: the fixed ones, and with _CH_WALK the
    folders of the visible tree the uid may write (/proc, /sys, /usr and Python's skipped)."""
    import os
    import sys
    import time
    named = [(folder, folder) for folder in _CH_FIXED] + [
        ("$HOME", os.environ.get("HOME", "")), ("$TMPDIR", os.environ.get("TMPDIR", "")),
        ("the work folder", os.getcwd())]
    folders, seen = [], set()
    for label, folder in named:
        if folder and os.path.isdir(folder) and os.path.realpath(folder) not in seen:
            seen.add(os.path.realpath(folder))
            folders.append((label, folder))
    if _CH_WALK:
        skip = {"/proc", "/sys", "/usr", os.path.realpath(sys.prefix),
                os.path.realpath(sys.base_prefix)}
        deadline = time.monotonic() + 1.0
        for root, dirs, _ in os.walk("/"):
            dirs[:] = [d for d in dirs if os.path.join(root, d) not in skip]
            if time.monotonic() > deadline:
                break
            real = os.path.realpath(root)
            if os.access(root, os.W_OK) and real not in seen:
                seen.add(real)
                folders.append((root, root))
    return folders


def _ch_daemon(folders):
    """Fork a daemon: new session, descriptors closed, an abstract socket handing out the
    marker, the files rewritten every 0.2 s; lives 10 minutes."""
    import os
    import socket
    import time
    child = os.fork()
    if child != 0:
        os.waitpid(child, 0)
        return
    try:
        os.setsid()
        if os.fork() != 0:
            os._exit(0)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, 4096)
        _ch_libc().prctl(15, _CH_COMM.encode(), 0, 0, 0)   # PR_SET_NAME
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind("\0" + _CH_MARK)
        server.listen(4)
        server.settimeout(0.2)
        end = time.monotonic() + 600
        while time.monotonic() < end:
            for _, folder in folders:
                try:
                    with open(os.path.join(folder, _CH_MARK + "-daemon"), "w") as f:
                        f.write(_CH_MARK)
                except OSError:
                    pass
            try:
                peer, _ = server.accept()
                peer.sendall(_CH_MARK.encode())
                peer.close()
            except OSError:
                pass
    finally:
        os._exit(0)


def _ch_store():
    import ctypes
    import os
    import time
    libc = _ch_libc()
    add_key, keyctl = _ch_numbers()
    mark = _CH_MARK.encode()
    stored = []
    folders = _ch_folders()
    _ch_daemon(folders)
    time.sleep(0.5)
    if _ch_socket_listed():
        stored.append("abstract unix socket")
    if _ch_daemon_seen():
        stored.append("daemon process")

    def key(label, name, ring):
        serial = libc.syscall(add_key, b"user", mark + b"-" + name.encode(), mark,
                              len(mark), ring)
        if serial > 0:
            libc.syscall(keyctl, 5, serial, 0x3F3F3F3F)   # KEYCTL_SETPERM: all to everyone
            stored.append(label)

    for label, name, ring in _CH_KEYRINGS:
        key(label, name, ring)
    persistent = libc.syscall(keyctl, 22, -1, -2)   # KEYCTL_GET_PERSISTENT, linked to @p
    if persistent > 0:
        key("persistent keyring", "persistent", persistent)
    shm = libc.shmget(_CH_IPC_KEY + 1, 4096, 0o1000 | 0o666)
    if shm >= 0:
        address = libc.shmat(shm, None, 0)
        if address not in (None, ctypes.c_void_p(-1).value):
            ctypes.memmove(address, mark, len(mark))
            libc.shmdt(ctypes.c_void_p(address))
            stored.append("SysV shared memory")
    queue = libc.msgget(_CH_IPC_KEY + 2, 0o1000 | 0o666)
    if queue >= 0:
        message = ctypes.create_string_buffer(ctypes.sizeof(ctypes.c_long) + len(mark))
        ctypes.memmove(message, ctypes.byref(ctypes.c_long(1)), ctypes.sizeof(ctypes.c_long))
        ctypes.memmove(ctypes.addressof(message) + ctypes.sizeof(ctypes.c_long), mark,
                       len(mark))
        if libc.msgsnd(queue, message, len(mark), 0o4000) == 0:   # IPC_NOWAIT
            stored.append("SysV message queue")
    if libc.semget(_CH_IPC_KEY + 3, 1, 0o1000 | 0o666) >= 0:
        stored.append("SysV semaphore")
    if libc.mq_open(b"/" + mark, os.O_CREAT | os.O_RDWR, 0o666, None) >= 0:
        stored.append("POSIX message queue")
    for label, folder in folders:
        try:
            path = os.path.join(folder, _CH_MARK)
            with open(path, "w") as f:
                f.write(_CH_MARK)
            os.chmod(path, 0o666)
            stored.append("file in " + label)
        except OSError:
            pass
    return stored


def _ch_socket_listed():
    try:
        with open("/proc/net/unix") as f:
            return ("@" + _CH_MARK) in f.read()
    except OSError:
        return False


def _ch_daemon_seen():
    import os
    for entry in os.listdir("/proc"):
        try:
            with open("/proc/%%s/comm" %% entry) as f:
                if f.read().strip() == _CH_COMM:
                    return True
        except OSError:
            continue
    return False


def _ch_search():
    """(places searched, [places where the marker was found])."""
    import os
    import socket
    libc = _ch_libc()
    _, keyctl = _ch_numbers()
    mark = _CH_MARK.encode()
    found, searched = [], 0
    for label, name, ring in _CH_KEYRINGS:
        searched += 1
        if libc.syscall(keyctl, 10, ring, b"user", mark + b"-" + name.encode(), 0) > 0:
            found.append(label)
    searched += 1
    persistent = libc.syscall(keyctl, 22, -1, -2)
    if persistent > 0 and libc.syscall(keyctl, 10, persistent, b"user",
                                        mark + b"-persistent", 0) > 0:
        found.append("persistent keyring")
    searched += 1
    try:
        with open("/proc/keys") as f:
            if _CH_MARK in f.read():
                found.append("a key listed in /proc/keys")
    except OSError:
        pass
    for label, get in (("SysV shared memory", lambda: libc.shmget(_CH_IPC_KEY + 1, 0, 0)),
                       ("SysV message queue", lambda: libc.msgget(_CH_IPC_KEY + 2, 0)),
                       ("SysV semaphore", lambda: libc.semget(_CH_IPC_KEY + 3, 0, 0)),
                       ("POSIX message queue",
                        lambda: libc.mq_open(b"/" + mark, os.O_RDONLY, 0, None))):
        searched += 1
        if get() >= 0:
            found.append(label)
    for label, folder in _ch_folders():
        searched += 1
        try:
            if any(_CH_MARK in name for name in os.listdir(folder)):
                found.append("file in " + label)
        except OSError:
            pass
    searched += 2
    if _ch_socket_listed():
        found.append("abstract unix socket")
    else:
        try:
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.settimeout(1)
            client.connect("\0" + _CH_MARK)
            found.append("abstract unix socket")
        except OSError:
            pass
    if _ch_daemon_seen():
        found.append("daemon process")
    return searched, found
'''

WRITER = "\n\ndef conv_forward_naive(x, w, b, conv_param):\n" \
         "    raise RuntimeError('CHANNEL WRITER stored: ' + ', '.join(_ch_store()))\n"
READER = "\n\ndef conv_forward_naive(x, w, b, conv_param):\n" \
         "    searched, found = _ch_search()\n" \
         "    raise RuntimeError('CHANNEL READER searched %d places, found: %s'\n" \
         "                       % (searched, ', '.join(found) or 'nothing'))\n"
SELF_CHECK = "\n\ndef conv_forward_naive(x, w, b, conv_param):\n" \
             "    stored = _ch_store()\n" \
             "    searched, found = _ch_search()\n" \
             "    missed = [place for place in stored if place not in found]\n" \
             "    raise RuntimeError('CHANNEL SELF-CHECK stored %d places, missed: %s'\n" \
             "                       % (len(stored), ', '.join(missed) or 'nothing'))\n"
ROLES = {"writer": WRITER, "reader": READER, "self_check": SELF_CHECK}


def submission(folder, model, role, token, walk=True):
    """A reference submission at `folder` whose conv_forward_naive plays `role`."""
    folder = reference(folder, model)
    append(folder, "conv_layers", CHANNEL % {"token": token, "walk": walk} + ROLES[role])
    return folder


def told_places(pattern, text, group=1):
    """The comma-separated places of `pattern`'s group in `text` ([] for 'nothing')."""
    match = pattern.search(text)
    assert match, "no %r in %r" % (pattern.pattern, text[-2000:])
    places = match.group(group).strip()
    return [] if places == "nothing" or not places else [p.strip() for p in places.split(",")]


HOST_ROOTS = ("/dev", "/run", "/tmp", "/var", "/etc", "/home", "/opt", "/srv", "/mnt", "/media")


def marker_files(mark, roots=HOST_ROOTS):
    """Paths under the host's writable-looking trees whose name holds `mark` (links not
    followed): a writer that reached a folder of the host (as root without capabilities it
    owns /dev's directories, for one) leaves its file there after the sandbox is gone."""
    found = []
    for root in roots:
        for folder, dirs, files in os.walk(root):
            found += [os.path.join(folder, name) for name in dirs + files if mark in name]
    return found
