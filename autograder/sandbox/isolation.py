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
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

from autograder.sandbox.limits import apply_rlimits
from autograder.sandbox.syscall_filter import Filter

SANDBOX_CODE = "/sandbox/code"
SANDBOX_WORK = "/sandbox/work"
SANDBOX_DATA = "/sandbox/data"
SANDBOX_SHARED = "/sandbox/shared"
SANDBOX_KIT = "/kit"
# Python that sets the loopback interface up (SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP),
# without needing iproute2 on the grading machine.
LOOPBACK_UP = ("import fcntl, socket, struct; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
               "f = struct.unpack('16sh', fcntl.ioctl(s, 0x8913, struct.pack('16sh', b'lo', 0)))[1]; "
               "fcntl.ioctl(s, 0x8914, struct.pack('16sh', b'lo', f | 1))")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
# glibc maps every allocation over its mmap threshold (32 MB at most, by default) afresh and
# unmaps it when freed, so each big array faults in and zeroes its pages again: the accuracy
# item's batches of 500 images (131 MB activations) cost 6,000 page faults per 1000 images,
# 0.1-1 s of CPU on a loaded machine. Kept in the heap instead (no fault after the first
# batch); RLIMIT_AS counts the heap the same, and both sides of the timing item get it alike.
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 31)}


@dataclass(frozen=True)
class Level:
    """
    One isolation level: the facts the launch plan and the session ask of it.
    - own_mount_tree: a fresh mount tree (bwrap): the worker sees the sandbox's own paths
      (/sandbox/..., /kit), data files are bound in, /tmp is a sized tmpfs
    - unshare_namespaces: util-linux unshare makes the namespaces and mounts (unshare)
    - namespaces: new pid and net namespaces, hidden paths covered, all read-only but the work
      folder (bwrap, unshare)
    - isolated: any limit at all (rlimits, capabilities, uid drop); False for the trusted 'none'
    - work_limit: how the work folder's size is bounded ('tmpfs', 'checked between requests', '')
    """
    name: str
    own_mount_tree: bool = False
    unshare_namespaces: bool = False
    namespaces: bool = False
    isolated: bool = True
    work_limit: str = ""

    def drops_uid(self, root):
        """Whether the worker runs as an unprivileged uid: as root, on an isolated level, where
        that uid can reach the Python install (always in a fresh mount tree)."""
        return root and self.isolated and (self.own_mount_tree or python_reachable_by_others())


WORK_CHECKED = "checked between requests"   # Level.work_limit without a sized tmpfs

LEVELS = {level.name: level for level in (
    Level("bwrap", own_mount_tree=True, namespaces=True, work_limit="tmpfs"),
    Level("unshare", unshare_namespaces=True, namespaces=True, work_limit="tmpfs"),
    Level("rlimits", work_limit=WORK_CHECKED),
    Level("none", isolated=False),
)}


def level_of(name):
    """The Level of a name ('bwrap', 'unshare', 'rlimits', 'none'); a Level is returned as is."""
    if isinstance(name, Level):
        return name
    if name not in LEVELS:
        raise ValueError("no isolation level %r (known: %s)" % (name, ", ".join(LEVELS)))
    return LEVELS[name]


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
            argv = [bwrap] + _system_binds() + ["--unshare-net", "--unshare-pid", "--dev", "/dev",
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


def python_roots():
    """Folders holding the Python install and its site-packages, outermost only."""
    import site
    import sysconfig
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                  os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))),
                  sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    candidates.update(site.getsitepackages())
    roots = sorted({os.path.realpath(c) for c in candidates if c and os.path.isdir(c)})
    outer = []
    for root in roots:
        if not any(root == o or root.startswith(o + os.sep) for o in outer):
            outer.append(root)
    return [r for r in outer if r not in ("/", "/usr")]


def _system_binds():
    """bwrap arguments for /usr, the /lib* and /bin folders (symlinked as on the host) and Python."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(name):
            args += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            args += ["--ro-bind", name, name]
    for name in ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives"):
        args += ["--ro-bind-try", name, name]
    made = set()
    for root in python_roots():
        # bwrap would create missing parents (e.g. /root) as 0700, unreadable after the uid drop.
        parents = []
        parent = os.path.dirname(root)
        while parent not in ("/", "") and not parent.startswith("/usr"):
            parents.append(parent)
            parent = os.path.dirname(parent)
        for folder in reversed(parents):
            if folder not in made:
                args += ["--perms", "0755", "--dir", folder]
                made.add(folder)
        args += ["--ro-bind", root, root]
    return args


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
    The Launch for one worker process.

    level: a Level or its name: 'bwrap', 'unshare', 'rlimits' or 'none' (trusted, no limits
    beyond the wall clock)
    worker_args: arguments after `python -B -P -m autograder.sandbox.worker`
    uid: unprivileged uid to run as (only when we are root; None keeps the current uid)
    """
    level = level_of(level)
    python = [sys.executable, "-B", "-P", "-m", "autograder.sandbox.worker"]
    root = os.geteuid() == 0
    drop = uid is not None and level.drops_uid(root)
    # bwrap's own folder on the host: the session's, not the work folder it replaces.
    cwd = os.path.dirname(layout.work_dir.rstrip(os.sep)) if level.own_mount_tree \
        else layout.work_dir
    if level.own_mount_tree:
        code, work, data, shared = SANDBOX_CODE, SANDBOX_WORK, SANDBOX_DATA, SANDBOX_SHARED
        kit_binds = []
        for name, host in sorted(layout.kit_dirs.items()):
            kit_binds += ["--ro-bind", host, SANDBOX_KIT + "/" + name]
        pythonpath = [code, SANDBOX_KIT]
        # The private /tmp comes before the system binds: a Python installed under /tmp (a
        # virtualenv there) is bound on top of it instead of being hidden by it. Both tmpfs
        # are sized: their pages are RAM that RLIMIT_AS does not count.
        argv = [shutil.which("bwrap"), "--die-with-parent", "--new-session",
                "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                "--unshare-cgroup-try", "--perms", "1777", "--size", str(limits.tmp_bytes),
                "--tmpfs", "/tmp"] + _system_binds() + [
                "--dev", "/dev", "--proc", "/proc",
                "--perms", "0755", "--dir", SANDBOX_KIT,
                "--perms", "0755", "--dir", "/sandbox"] + kit_binds
        if layout.code_dir:
            argv += ["--ro-bind", layout.code_dir, code]
        argv += ["--ro-bind", layout.shared_dir, shared]
        argv += ["--perms", "1777", "--size", str(limits.work_bytes), "--tmpfs", work]
        if layout.data_files:
            argv += ["--perms", "0755", "--dir", data]
        for name, host in sorted(layout.data_files.items()):
            argv += ["--ro-bind", host, data + "/" + name]
        # Hidden paths inside a visible tree (the data set unpacked into cs231n/datasets/,
        # a copy under the Python install) are covered: folders by an empty tmpfs, files by
        # /dev/null.
        for inside, is_dir in _hidden_inside(layout):
            argv += ["--perms", "0000", "--tmpfs", inside] if is_dir else \
                ["--ro-bind", "/dev/null", inside]
        argv += ["--chdir", work]
        if drop:
            argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"] + _setpriv(uid)
        argv += python + worker_args
    else:
        code, work, shared = layout.code_dir, layout.work_dir, layout.shared_dir
        data = os.path.join(layout.shared_dir, "data") if layout.data_files or os.path.isdir(
            os.path.join(layout.shared_dir, "data")) else ""
        kit = _host_kit_dir(layout)
        pythonpath = ([code] if code else []) + [kit]
        if drop:
            argv = _setpriv(uid) + python + worker_args
        elif root and level.isolated:
            # Still root, but without capabilities (cannot unmount the hiding tmpfs, etc.).
            argv = _drop_capabilities() + python + worker_args
        else:
            argv = python + worker_args
        if level.unshare_namespaces:
            hide = []
            for path in layout.hidden:
                if os.path.isdir(path):
                    hide.append("mount -t tmpfs -o size=4k,mode=000 none %s" % shlex.quote(path))
                elif os.path.isfile(path):
                    hide.append("mount --bind /dev/null %s" % shlex.quote(path))
            # World-writable folders of the host's /dev (left writable by the read-only pass
            # below) would outlive the sandbox: /dev/shm becomes a private sized tmpfs, any
            # other one an empty, closed one.
            for path in shared_dev_folders():
                hide.append("mount -t tmpfs -o size=%d,mode=1777 none %s" % (
                    limits.tmp_bytes, shlex.quote(path)) if path == "/dev/shm" else
                    "mount -t tmpfs -o size=4k,mode=000 none %s" % shlex.quote(path))
            # The work folder becomes a sized tmpfs of the worker's uid; everything else
            # read-only (the namespace's own view only).
            work_q = shlex.quote(layout.work_dir)
            owner = uid if drop else os.geteuid()
            work_mount = "mount -t tmpfs -o size=%d,mode=0700,uid=%d,gid=%d none %s" % (
                limits.work_bytes, owner, owner, work_q)
            # /dev itself too: the sandbox may still be root (without capabilities, but the
            # owner of the host's /dev), and a file it leaves in /dev/cpu would outlive it;
            # device nodes stay usable on a read-only mount. Its own mounts (/dev/shm, /dev/pts)
            # keep their flags.
            read_only = ("for m in $(awk '{print $2}' /proc/self/mounts); "
                         "do case \"$m\" in /proc*|/sys*|/dev/*|%s) ;; *) mount -o remount,bind,ro "
                         "\"$m\" 2>/dev/null ;; esac; done" % work_q)
            # A new network namespace starts with its loopback down (bwrap brings it up):
            # a notebook kernel talks to its client over 127.0.0.1, so --retrain needs it.
            loopback = "%s -I -c %s" % (shlex.quote(sys.executable), shlex.quote(LOOPBACK_UP))
            mounts = " && ".join(hide + [loopback, work_mount, read_only, "cd %s" % work_q])
            argv = ["unshare", "--mount", "--net", "--pid", "--fork", "--kill-child", "--ipc",
                    "--uts", "--mount-proc", "--", "/bin/sh", "-c", mounts + ' && exec "$@"',
                    "sh"] + argv
    env = worker_env(pythonpath, work, extra_env)
    isolated = level.isolated
    work_limit = level.work_limit
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

    protections = {
        "level": level.name,
        "network_isolated": level.namespaces,
        "hidden_paths_unreadable": level.namespaces,
        "unprivileged_uid": uid if drop else None,
        "capabilities_dropped": isolated and root,
        "pid_namespace": level.namespaces,
        "read_only_filesystem_except_work": level.namespaces,
        "rlimits": isolated and {
            "cpu_seconds": limits.cpu_seconds, "memory_mb": limits.memory_mb,
            "max_processes": limits.max_processes if (drop or not root) else None,
            "file_bytes": limits.file_bytes},
        "output_cap_bytes": limits.output_bytes,
        # Requests and results travel over pipes; the grader opens nothing the sandbox wrote.
        "results_over_pipes": True,
        # The spec, model and data the worker reads: read-only for it (bind or ownership).
        "grader_files_read_only": level.namespaces or drop,
        "tmp_limit_mb": (limits.tmp_bytes >> 20) if level.own_mount_tree else None,
        "work_limit_mb": (limits.work_bytes >> 20) if isolated else None,
        "work_limit": work_limit or None,
        # Kernel keyrings and POSIX message queues refused (syscall_filter.py).
        "keyrings_blocked": filtered,
        # What one submission's sandbox leaves for later ones (see the module docstring).
        "between_submissions": between_submissions(level, drop, filtered) if isolated else None,
    }
    return Launch(argv=argv, env=env, cwd=cwd, preexec=preexec, protections=protections,
                  code_dir=code, work_dir=work, data_dir=data, shared_dir=shared,
                  work_limit=work_limit)


def between_submissions(level, drop, filtered=True):
    """'private' (namespaces and tmpfs: nothing outlives the sandbox), 'scrubbed' (the uid's
    processes, IPC objects and shared temp files are destroyed after it) or 'shared' (it runs
    as the grader's own user: nothing can be told apart and destroyed; or the keyrings could
    not be refused: syscall_filter knows no numbers for this machine)."""
    if not filtered:
        return "shared"
    if level.namespaces:
        return "private"
    return "scrubbed" if drop else "shared"


def shared_dev_folders():
    """World-writable folders directly under the host's /dev (/dev/shm, /dev/mqueue...)."""
    found = []
    try:
        entries = sorted(os.scandir("/dev"), key=lambda e: e.name)
    except OSError:
        return found
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False) and \
                    entry.stat(follow_symlinks=False).st_mode & 0o002:
                found.append(entry.path)
        except OSError:
            continue
    return found


def _hidden_inside(layout):
    """(path inside the bwrap sandbox, is a folder) of each hidden path it could otherwise see."""
    visible = [(os.path.realpath(host), SANDBOX_KIT + "/" + name)
               for name, host in sorted(layout.kit_dirs.items())]
    visible += [(root, root) for root in python_roots()]
    visible += [(name, name) for name in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
                                           "/libx32") if os.path.isdir(name)
                and not os.path.islink(name)]
    found = []
    for path in layout.hidden:
        real = os.path.realpath(path)
        if not (os.path.isdir(real) or os.path.isfile(real)):
            continue
        for host, inside in visible:
            if real == host or real.startswith(host + os.sep):
                entry = (inside + real[len(host):], os.path.isdir(real))
                if entry not in found:
                    found.append(entry)
    return found


def python_reachable_by_others():
    """True if every folder above the Python install lets other users through (o+x)."""
    for root in python_roots():
        folder = root
        while folder not in ("/", ""):
            try:
                if not os.stat(folder).st_mode & 0o001:
                    return False
            except OSError:
                return False
            folder = os.path.dirname(folder)
    return True


def _drop_capabilities():
    return [shutil.which("setpriv") or "setpriv", "--inh-caps=-all", "--bounding-set=-all",
            "--no-new-privs", "--"]


def _setpriv(uid):
    # --no-new-privs: no setuid program (crontab, at...) can act for the uid outside the
    # sandbox's lifetime.
    return [shutil.which("setpriv") or "setpriv", "--reuid=%d" % uid, "--regid=%d" % uid,
            "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]


def _host_kit_dir(layout):
    """A folder of symlinks to the trusted packages, so sys.path holds nothing else from the kit."""
    kit = os.path.join(os.path.dirname(layout.work_dir.rstrip(os.sep)), "kit")
    os.makedirs(kit, exist_ok=True)
    os.chmod(kit, 0o755)
    for name, host in layout.kit_dirs.items():
        link = os.path.join(kit, name)
        if not os.path.islink(link):
            try:
                os.symlink(host, link)
            except FileExistsError:
                pass
    return kit
