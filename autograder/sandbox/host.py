"""Facts of the grading machine the isolation levels build on: where Python is installed,
the system folders a fresh mount tree binds, the host's world-writable /dev folders, and the
setpriv command lines that drop privileges."""
import os
import shutil
import sys


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


def system_binds():
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


def drop_capabilities():
    """setpriv arguments that keep the uid but drop every capability."""
    return [shutil.which("setpriv") or "setpriv", "--inh-caps=-all", "--bounding-set=-all",
            "--no-new-privs", "--"]


def setpriv(uid):
    """setpriv arguments that run the rest as `uid`, without groups or capabilities."""
    # --no-new-privs: no setuid program (crontab, at...) can act for the uid outside the
    # sandbox's lifetime.
    return [shutil.which("setpriv") or "setpriv", "--reuid=%d" % uid, "--regid=%d" % uid,
            "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
