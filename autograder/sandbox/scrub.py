"""Destroy what a sandbox uid left behind, before its uid slot serves another submission.

Run as root by the grader when a slot is claimed and when it is released (uids.py), so even
a slot whose grader was killed is clean before its next use. In order:
1. every process of the uid is killed (found by any of its real, effective, saved or file
   system uids; repeated until none is left, so a fork loop or a daemon that left its
   session or pid namespace cannot outrun it); nothing of the uid runs while 2 and 3 happen;
2. the SysV shared memory segments, semaphore sets and message queues it owns or created in
   the grader's IPC namespace (the rlimits level shares it; bwrap and unshare have their own);
3. the files and folders it owns in the world-writable folders every uid shares (/tmp,
   /var/tmp, /dev/shm, /dev/mqueue, /run/lock, the grader's temp folder), and in the
   world-writable folders inside them: a uid without groups can create files nowhere else
   but in its own folders (removed whole) -- except other world-writable folders elsewhere on
   the machine, which only the rlimits level can reach (isolation.py says so).
Links are never followed: every folder is opened with O_NOFOLLOW relative to its parent.
"""
import ctypes
import ctypes.util
import os
import shutil
import signal
import stat
import tempfile
import time

SHARED_TEMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue", "/run/lock")
KILL_SECONDS = 10.0
MAX_DEPTH = 16
IPC_RMID = 0
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)

try:
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
except OSError:  # not Linux: nothing of this kind to remove
    _libc = None


def scrub_uid(uid, folders=None):
    """Kill, remove and delete everything of `uid` (see the module docstring); returns the
    problems found (empty: nothing of the uid is left). folders: the shared folders to clean
    (default: shared_folders())."""
    problems = []
    survivors = kill_processes(uid)
    if survivors:
        problems.append("processes of uid %d survived SIGKILL: %s" % (uid, survivors[:10]))
    problems += remove_ipc_objects(uid)
    for folder in shared_folders() if folders is None else folders:
        problems += remove_owned_files(folder, uid)
    return problems


def shared_folders():
    """The world-writable temp folders of this machine (each once, links resolved)."""
    found = []
    for folder in SHARED_TEMP_DIRS + (tempfile.gettempdir(),):
        real = os.path.realpath(folder)
        try:
            mode = os.stat(real).st_mode
        except OSError:
            continue
        if stat.S_ISDIR(mode) and mode & stat.S_IWOTH and real not in found:
            found.append(real)
    return found


# -- processes -------------------------------------------------------------------------------
def processes_of(uid):
    """Pids of the live (not zombie) processes with `uid` as any of their uids."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/status" % entry) as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        state = fields.get("State", "").split()
        threads = fields.get("Threads", "1").strip()
        if state and state[0] in ("Z", "X") and threads in ("0", "1"):
            continue   # a zombie runs nothing (unless its other threads still do)
        try:
            uids = [int(value) for value in fields["Uid"].split()]
        except (KeyError, ValueError):
            continue
        if uid in uids:
            pids.append(int(entry))
    return pids


def kill_processes(uid, seconds=KILL_SECONDS):
    """SIGKILL every process of `uid` until none is left (or `seconds` pass); returns the
    pids still alive."""
    deadline = time.monotonic() + seconds
    while True:
        pids = processes_of(uid)
        if not pids or time.monotonic() > deadline:
            return pids
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)


# -- SysV IPC --------------------------------------------------------------------------------
IPC_KINDS = {"shm": "shmctl", "sem": "semctl", "msg": "msgctl"}


def ipc_objects_of(uid):
    """[(kind, id)] of the SysV objects in this IPC namespace that `uid` owns or created."""
    found = []
    for kind in IPC_KINDS:
        try:
            with open("/proc/sysvipc/%s" % kind) as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        if not lines:
            continue
        names = lines[0].split()
        for line in lines[1:]:
            row = dict(zip(names, line.split()))
            try:
                owners = {int(row["uid"]), int(row["cuid"])}
                ident = int(row[names[1]])   # shmid, semid or msqid
            except (KeyError, ValueError, IndexError):
                continue
            if uid in owners:
                found.append((kind, ident))
    return found


def remove_ipc_objects(uid):
    problems = []
    if _libc is None:
        return problems
    for kind, ident in ipc_objects_of(uid):
        if kind == "sem":
            done = _libc.semctl(ident, 0, IPC_RMID, None)
        else:
            done = getattr(_libc, IPC_KINDS[kind])(ident, IPC_RMID, None)
        if done != 0 and ctypes.get_errno() not in (22, 43):   # EINVAL, EIDRM: gone already
            problems.append("could not remove SysV %s %d of uid %d: %s"
                            % (kind, ident, uid, os.strerror(ctypes.get_errno())))
    return problems


# -- files -----------------------------------------------------------------------------------
def remove_owned_files(folder, uid):
    """Delete what `uid` owns in `folder` and in the world-writable folders under it."""
    try:
        fd = os.open(folder, _DIRECTORY)
    except OSError:
        return []
    try:
        return _scrub_folder(fd, folder, uid, 0)
    finally:
        os.close(fd)


def _scrub_folder(fd, path, uid, depth):
    problems = []
    try:
        names = os.listdir(fd)
    except OSError as error:
        return ["could not list %s: %s" % (path, error)]
    for name in names:
        try:
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except OSError:
            continue
        shown = os.path.join(path, name)
        if info.st_uid == uid:
            try:
                if stat.S_ISDIR(info.st_mode):
                    shutil.rmtree(name, dir_fd=fd)   # fd-based: never follows a link
                else:
                    os.unlink(name, dir_fd=fd)
            except OSError as error:
                problems.append("could not delete %s: %s" % (shown, error))
        elif stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_IWOTH and depth < MAX_DEPTH:
            try:
                sub = os.open(name, _DIRECTORY, dir_fd=fd)
            except OSError:
                continue
            try:
                problems += _scrub_folder(sub, shown, uid, depth + 1)
            finally:
                os.close(sub)
    return problems
