"""How a worker process is isolated: the command line, environment and pre-exec set-up.

Three levels, the strongest available is used:
- "bwrap": bubblewrap with new net, pid, ipc and uts namespaces and a fresh mount
  tree holding only the Python install (read-only), the kit's cs231n and
  autograder (read-only), the submission's nndl copy and the session's shared
  folder (read-only), and two sized tmpfs (/tmp and the work folder, the only
  writable places); solutions/, the grader's temp folders and the data set are
  simply absent (copies inside a visible tree are covered). As root the worker then
  drops to an unprivileged uid (setpriv) so RLIMIT_NPROC applies.
- "unshare": util-linux unshare with the same namespaces, everything read-only but
  a sized tmpfs over the work folder and a private /dev/shm (other world-writable
  folders under /dev covered), empty mounts over the hidden paths, then the same uid drop.
- "rlimits": only resource limits and (as root) the uid drop; hidden folders rely on
  file permissions, the work folder's size is checked by the grader between requests.
The trusted reference worker uses "none": same protocol, no isolation.
Each level is a class in levels.py (its command line, paths, protections record and
warning); plan() looks the level up and asks it.

Between submissions (issue 22: the same secret cases go to every submission of a run, so a
channel between submissions is a channel for answers), what one sandbox leaves must not reach
a later one. Every isolated level refuses kernel keyrings and POSIX message queues (a seccomp
filter, syscall_filter.py: keyrings are per uid, not per namespace, and can be made
unclearable). Then, per level (protections["between_submissions"]):
- bwrap, unshare: "private". The only writable places are tmpfs mounts of the sandbox's own
  mount namespace, SysV IPC and abstract unix sockets belong to its own IPC and network
  namespaces, and its processes to its own pid namespace (killed with it): all of it dies
  with the sandbox. The uid is scrubbed as well (scrub.py) when its slot is claimed and
  released.
- rlimits as root, with the uid drop: "scrubbed". Nothing is private; when the session
  ends scrub.py kills every process of the uid, removes its SysV IPC objects and deletes its
  files in the shared temp folders (/tmp, /var/tmp, /dev/shm, /dev/mqueue, /run/lock).
  Files it leaves in any other world-writable folder of the machine are not found:
  `grade` warns.
- rlimits as an ordinary user (or as root without the uid drop): "shared". Student code runs
  as the grader's own user, whose files cannot be told from its own: anything it leaves
  reaches later submissions. `grade` warns. Any level is "shared" on a machine whose system
  call numbers syscall_filter does not know (keyrings stay open; `grade` warns).
"""
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

from autograder.sandbox.host import system_binds
# The levels themselves (one class each) live in levels.py; their names are kept here for
# the modules that plan launches.
from autograder.sandbox.levels import (LEVELS, SANDBOX_CODE, SANDBOX_WORK,  # noqa: F401
                                       WORK_CHECKED, Level, level_of)
from autograder.sandbox.limits import apply_rlimits
from autograder.sandbox.syscall_filter import Filter

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
# glibc maps every allocation over its mmap threshold (32 MB at most, by default) afresh and
# unmaps it when freed, so each big array faults in and zeroes its pages again: the accuracy
# item's batches of 500 images (131 MB activations) cost 6,000 page faults per 1000 images,
# 0.1-1 s of CPU on a loaded machine. Kept in the heap instead (no fault after the first
# batch); RLIMIT_AS counts the heap the same, and both sides of the timing item get it alike.
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 31)}


@dataclass
class Layout:
    """
    Host paths a worker uses.
    - code_dir: folder holding nndl/ (read-only for the worker); None for no nndl
    - work_dir: scratch folder (read-write; with bwrap a tmpfs takes its place, with
      unshare a tmpfs covers it, so the host folder stays empty)
    - shared_dir: grader-written folder the worker reads only (spec, model, data copies)
    - kit_dirs: {package name: host folder} of trusted packages (cs231n, autograder)
    - hidden: host folders or files the worker must not read
    - data_files: {file name: host path} bound read-only into the worker's data folder
      (bwrap; the other levels find copies in shared_dir/data)
    """
    code_dir: str
    work_dir: str
    shared_dir: str
    kit_dirs: dict
    hidden: list = field(default_factory=list)
    data_files: dict = field(default_factory=dict)


@dataclass
class Launch:
    argv: list
    env: dict
    cwd: str
    preexec: object
    protections: dict
    code_dir: str   # paths as the worker sees them
    work_dir: str
    data_dir: str
    shared_dir: str
    work_limit: str  # how the work folder's size is bounded: 'tmpfs', 'checked between requests' or ''


def available_level():
    """The strongest isolation level that works on this machine ('bwrap', 'unshare', 'rlimits')."""
    if _bwrap_works():
        return "bwrap"
    if os.geteuid() == 0 and shutil.which("unshare") and shutil.which("setpriv") and _unshare_works():
        return "unshare"
    return "rlimits"


_probe_cache = {}


def _bwrap_works():
    if "bwrap" not in _probe_cache:
        bwrap = shutil.which("bwrap")
        ok = False
        if bwrap:
            argv = [bwrap] + system_binds() + ["--unshare-net", "--unshare-pid", "--dev", "/dev",
                                                "--proc", "/proc", sys.executable, "-c", "pass"]
            ok = _runs(argv)
        _probe_cache["bwrap"] = ok
    return _probe_cache["bwrap"]


def _unshare_works():
    if "unshare" not in _probe_cache:
        _probe_cache["unshare"] = _runs(["unshare", "--mount", "--net", "--pid", "--fork", "true"])
    return _probe_cache["unshare"]


def _filter_works(syscall_filter, root):
    """Whether the kernel takes the seccomp filter (probed once, in a child)."""
    if "seccomp" not in _probe_cache:
        try:
            subprocess.run(["true"], preexec_fn=lambda: syscall_filter.install(not root),
                           check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=20)
            _probe_cache["seccomp"] = True
        except (OSError, subprocess.SubprocessError):
            _probe_cache["seccomp"] = False
    return _probe_cache["seccomp"]


def _runs(argv):
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def worker_env(pythonpath, home, extra=None):
    env = {
        # Python's own bin first: nbclient starts kernels by the name `python`.
        "PATH": os.path.dirname(sys.executable) + ":/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(pythonpath),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONNOUSERSITE": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": os.path.join(home, ".matplotlib"),
        "JUPYTER_RUNTIME_DIR": os.path.join(home, ".jupyter-runtime"),
        "JUPYTER_DATA_DIR": os.path.join(home, ".jupyter-data"),
        "IPYTHONDIR": os.path.join(home, ".ipython"),
    }
    for name in THREAD_VARS:
        env[name] = "1"
    env.update(MALLOC_ENV)
    env.update(extra or {})
    return env


def plan(level, layout, limits, worker_args, uid=None, extra_env=None):
    """
    The Launch for one worker process: the level (levels.py) builds the command line and the
    paths and says what it protects; the environment and the pre-exec set-up are common.

    level: a Level or its name: 'bwrap', 'unshare', 'rlimits' or 'none' (trusted, no limits
    beyond the wall clock)
    worker_args: arguments after `python -B -P -m autograder.sandbox.worker`
    uid: unprivileged uid to run as (only when we are root; None keeps the current uid)
    """
    level = level_of(level)
    python = [sys.executable, "-B", "-P", "-m", "autograder.sandbox.worker"]
    root = os.geteuid() == 0
    drop = uid is not None and level.drops_uid(root)
    paths = level.paths(layout)
    argv = level.command(python + worker_args, layout, limits, uid, drop, root)
    env = worker_env(paths.pythonpath, paths.work, extra_env)
    isolated = level.isolated
    syscall_filter = Filter()
    filtered = isolated and syscall_filter.active and _filter_works(syscall_filter, root)

    def preexec():
        os.setsid()
        if isolated:
            # As root RLIMIT_NPROC is ignored; it counts only once the uid is dropped.
            apply_rlimits(limits, nproc=drop or not root)
        if filtered:
            # Before bwrap, unshare or setpriv start: inherited by all they start.
            syscall_filter.install(no_new_privs=not root)

    return Launch(argv=argv, env=env, cwd=paths.cwd, preexec=preexec,
                  protections=level.protections(limits, uid, drop, root, filtered),
                  code_dir=paths.code, work_dir=paths.work, data_dir=paths.data,
                  shared_dir=paths.shared, work_limit=level.work_limit)


def between_submissions(level, drop, filtered=True):
    """What one submission's sandbox at `level` leaves for later ones: 'private' (namespaces
    and tmpfs: nothing outlives the sandbox), 'scrubbed' (the uid's processes, IPC objects and
    shared temp files are destroyed after it) or 'shared' (it runs as the grader's own user:
    nothing can be told apart and destroyed; or the keyrings could not be refused:
    syscall_filter knows no numbers for this machine); None for the trusted level."""
    return level_of(level).between_submissions(drop, filtered)
