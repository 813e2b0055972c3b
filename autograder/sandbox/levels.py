"""The isolation levels, one class each: what a level builds (its command line and the paths
the worker sees), what it protects (the facts recorded in results.json's sandbox record) and
what `grade` warns about it. isolation.plan() looks a level up and asks it; the module
docstring of isolation.py says what each level isolates and what passes between submissions.
"""
import os
import shlex
import shutil
import sys

from autograder.sandbox import host

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
WORK_CHECKED = "checked between requests"   # Level.work_limit without a sized tmpfs


class Paths:
    """Where the worker finds its folders (as it sees them), the folder it starts in on the
    host, and its sys.path."""

    def __init__(self, code, work, data, shared, cwd, pythonpath):
        self.code, self.work, self.data, self.shared = code, work, data, shared
        self.cwd, self.pythonpath = cwd, pythonpath


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
    name = ""
    own_mount_tree = False
    unshare_namespaces = False
    namespaces = False
    isolated = True
    work_limit = ""

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self.name)

    def drops_uid(self, root):
        """Whether the worker runs as an unprivileged uid: as root, on an isolated level, where
        that uid can reach the Python install (always in a fresh mount tree)."""
        return root and self.isolated and (self.own_mount_tree or host.python_reachable_by_others())

    def paths(self, layout):
        """The worker's Paths on the host's own tree (every level but bwrap)."""
        data = os.path.join(layout.shared_dir, "data") if layout.data_files or os.path.isdir(
            os.path.join(layout.shared_dir, "data")) else ""
        kit = _host_kit_dir(layout)
        pythonpath = ([layout.code_dir] if layout.code_dir else []) + [kit]
        return Paths(layout.code_dir, layout.work_dir, data, layout.shared_dir,
                     layout.work_dir, pythonpath)

    def command(self, python, layout, limits, uid, drop, root):
        """The argv that starts `python` (the worker's command line) at this level."""
        if drop:
            return host.setpriv(uid) + python
        if root and self.isolated:
            # Still root, but without capabilities (cannot unmount the hiding tmpfs, etc.).
            return host.drop_capabilities() + python
        return python

    def between_submissions(self, drop, filtered):
        """What one submission's sandbox leaves for later ones (isolation.py's docstring):
        'private', 'scrubbed', 'shared', or None where nothing is isolated."""
        raise NotImplementedError

    def protections(self, limits, uid, drop, root, filtered):
        """The sandbox record of results.json: what this level protected."""
        isolated = self.isolated
        return {
            "level": self.name,
            "network_isolated": self.namespaces,
            "hidden_paths_unreadable": self.namespaces,
            "unprivileged_uid": uid if drop else None,
            "capabilities_dropped": isolated and root,
            "pid_namespace": self.namespaces,
            "read_only_filesystem_except_work": self.namespaces,
            "rlimits": isolated and {
                "cpu_seconds": limits.cpu_seconds, "memory_mb": limits.memory_mb,
                "max_processes": limits.max_processes if (drop or not root) else None,
                "file_bytes": limits.file_bytes},
            "output_cap_bytes": limits.output_bytes,
            # Requests and results travel over pipes; the grader opens nothing the sandbox wrote.
            "results_over_pipes": True,
            # The spec, model and data the worker reads: read-only for it (bind or ownership).
            "grader_files_read_only": self.namespaces or drop,
            "tmp_limit_mb": (limits.tmp_bytes >> 20) if self.own_mount_tree else None,
            "work_limit_mb": (limits.work_bytes >> 20) if isolated else None,
            "work_limit": self.work_limit or None,
            # Kernel keyrings and POSIX message queues refused (syscall_filter.py).
            "keyrings_blocked": filtered,
            # What one submission's sandbox leaves for later ones (see isolation.py's docstring).
            "between_submissions": self.between_submissions(drop, filtered),
        }

    def warning(self, euid, python_reachable=None):
        """What `grade` prints before grading at this level ('' when nothing is due).
        python_reachable: whether other users reach the Python install (None: probe)."""
        return ""


class Bwrap(Level):
    """bubblewrap: a fresh mount tree with new net, pid, ipc and uts namespaces."""
    name = "bwrap"
    own_mount_tree = True
    namespaces = True
    work_limit = "tmpfs"

    def paths(self, layout):
        # bwrap's own folder on the host: the session's, not the work folder it replaces.
        cwd = os.path.dirname(layout.work_dir.rstrip(os.sep))
        return Paths(SANDBOX_CODE, SANDBOX_WORK, SANDBOX_DATA, SANDBOX_SHARED, cwd,
                     [SANDBOX_CODE, SANDBOX_KIT])

    def command(self, python, layout, limits, uid, drop, root):
        kit_binds = []
        for name, host_dir in sorted(layout.kit_dirs.items()):
            kit_binds += ["--ro-bind", host_dir, SANDBOX_KIT + "/" + name]
        # The private /tmp comes before the system binds: a Python installed under /tmp (a
        # virtualenv there) is bound on top of it instead of being hidden by it. Both tmpfs
        # are sized: their pages are RAM that RLIMIT_AS does not count.
        argv = [shutil.which("bwrap"), "--die-with-parent", "--new-session",
                "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                "--unshare-cgroup-try", "--perms", "1777", "--size", str(limits.tmp_bytes),
                "--tmpfs", "/tmp"] + host.system_binds() + [
                "--dev", "/dev", "--proc", "/proc",
                "--perms", "0755", "--dir", SANDBOX_KIT,
                "--perms", "0755", "--dir", "/sandbox"] + kit_binds
        if layout.code_dir:
            argv += ["--ro-bind", layout.code_dir, SANDBOX_CODE]
        argv += ["--ro-bind", layout.shared_dir, SANDBOX_SHARED]
        argv += ["--perms", "1777", "--size", str(limits.work_bytes), "--tmpfs", SANDBOX_WORK]
        if layout.data_files:
            argv += ["--perms", "0755", "--dir", SANDBOX_DATA]
        for name, host_path in sorted(layout.data_files.items()):
            argv += ["--ro-bind", host_path, SANDBOX_DATA + "/" + name]
        # Hidden paths inside a visible tree (the data set unpacked into cs231n/datasets/,
        # a copy under the Python install) are covered: folders by an empty tmpfs, files by
        # /dev/null.
        for inside, is_dir in _hidden_inside(layout):
            argv += ["--perms", "0000", "--tmpfs", inside] if is_dir else \
                ["--ro-bind", "/dev/null", inside]
        argv += ["--chdir", SANDBOX_WORK]
        if drop:
            argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"] + host.setpriv(uid)
        return argv + python

    def between_submissions(self, drop, filtered):
        return "private" if filtered else "shared"


class Unshare(Level):
    """util-linux unshare: the same namespaces, the host's tree read-only, hidden paths and
    the host's world-writable /dev folders covered, a sized tmpfs over the work folder."""
    name = "unshare"
    unshare_namespaces = True
    namespaces = True
    work_limit = "tmpfs"

    def command(self, python, layout, limits, uid, drop, root):
        inner = super().command(python, layout, limits, uid, drop, root)
        hide = []
        for path in layout.hidden:
            if os.path.isdir(path):
                hide.append("mount -t tmpfs -o size=4k,mode=000 none %s" % shlex.quote(path))
            elif os.path.isfile(path):
                hide.append("mount --bind /dev/null %s" % shlex.quote(path))
        # World-writable folders of the host's /dev (left writable by the read-only pass
        # below) would outlive the sandbox: /dev/shm becomes a private sized tmpfs, any
        # other one an empty, closed one.
        for path in host.shared_dev_folders():
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
        return ["unshare", "--mount", "--net", "--pid", "--fork", "--kill-child", "--ipc",
                "--uts", "--mount-proc", "--", "/bin/sh", "-c", mounts + ' && exec "$@"',
                "sh"] + inner

    def between_submissions(self, drop, filtered):
        return "private" if filtered else "shared"


class Rlimits(Level):
    """Resource limits and (as root) the uid drop only: hidden folders rely on file
    permissions, the work folder's size is checked by the grader between requests."""
    name = "rlimits"
    work_limit = WORK_CHECKED

    def between_submissions(self, drop, filtered):
        if not filtered:
            return "shared"
        return "scrubbed" if drop else "shared"

    def warning(self, euid, python_reachable=None):
        # At the rlimits level, as root, student code drops to an unprivileged uid only when
        # the Python install is reachable by other users; otherwise it runs as root with
        # resource limits alone. As an ordinary user it runs as that user.
        if euid != 0:
            return ("warning: the sandbox runs at the rlimits level as an ordinary user: student "
                    "code runs as you, so files it leaves (in /tmp, your home...) or processes it "
                    "leaves running can pass data to submissions graded later. Grade strangers' "
                    "code as root with bubblewrap installed.")
        reachable = host.python_reachable_by_others() if python_reachable is None \
            else python_reachable
        if reachable:
            return ("warning: the sandbox runs at the rlimits level as root: student code runs as "
                    "an unprivileged user, but only file permissions and resource limits protect "
                    "this machine (no namespaces), and files it leaves in world-writable folders "
                    "other than /tmp, /var/tmp, /dev/shm and /run/lock can pass data to "
                    "submissions graded later. Install bubblewrap to grade strangers' code.")
        return ("warning: the sandbox runs at the rlimits level as root and cannot drop to an "
                "unprivileged user (the Python install is not reachable by other users): student "
                "code runs as root, can read and write every root-owned file on this machine and "
                "can leave data for submissions graded later. Install bubblewrap (apt-get install "
                "bubblewrap), or grade as an ordinary user.")


class Trusted(Level):
    """'none': the trusted reference worker; the same protocol, no isolation."""
    name = "none"
    isolated = False

    def between_submissions(self, drop, filtered):
        return None


LEVELS = {level.name: level for level in (Bwrap(), Unshare(), Rlimits(), Trusted())}


def level_of(name):
    """The Level of a name ('bwrap', 'unshare', 'rlimits', 'none'); a Level is returned as is."""
    if isinstance(name, Level):
        return name
    if name not in LEVELS:
        raise ValueError("no isolation level %r (known: %s)" % (name, ", ".join(LEVELS)))
    return LEVELS[name]


def _hidden_inside(layout):
    """(path inside the bwrap sandbox, is a folder) of each hidden path it could otherwise see."""
    visible = [(os.path.realpath(host_dir), SANDBOX_KIT + "/" + name)
               for name, host_dir in sorted(layout.kit_dirs.items())]
    visible += [(root, root) for root in host.python_roots()]
    visible += [(name, name) for name in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
                                           "/libx32") if os.path.isdir(name)
                and not os.path.islink(name)]
    found = []
    for path in layout.hidden:
        real = os.path.realpath(path)
        if not (os.path.isdir(real) or os.path.isfile(real)):
            continue
        for host_dir, inside in visible:
            if real == host_dir or real.startswith(host_dir + os.sep):
                entry = (inside + real[len(host_dir):], os.path.isdir(real))
                if entry not in found:
                    found.append(entry)
    return found


def _host_kit_dir(layout):
    """A folder of symlinks to the trusted packages, so sys.path holds nothing else from the kit."""
    kit = os.path.join(os.path.dirname(layout.work_dir.rstrip(os.sep)), "kit")
    os.makedirs(kit, exist_ok=True)
    os.chmod(kit, 0o755)
    for name, host_dir in layout.kit_dirs.items():
        link = os.path.join(kit, name)
        if not os.path.islink(link):
            try:
                os.symlink(host_dir, link)
            except FileExistsError:
                pass
    return kit
