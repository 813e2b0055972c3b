"""One worker for one nndl package (a student's, sandboxed, or the trusted reference).

A session owns a private folder and restarts its worker after a crash or a timeout,
so a failing request costs that request only. The grader never opens by name
anything the sandbox could have written: requests and replies travel as frames over
the worker's pipes (autograder.sandbox.arrays), and the files the worker must read
(a model, a notebook, data) go into the session's shared/ folder, which the
grader creates before any worker runs, writes with O_CREAT|O_EXCL|O_NOFOLLOW, and the
sandbox sees read-only (a read-only bind with bwrap and unshare; root-owned 0755 with
an unprivileged uid otherwise).
"""
import itertools
import os
import posixpath
import secrets
import shutil

from autograder.sandbox.isolation import SANDBOX_CODE, WORK_CHECKED, Layout, level_of, plan
from autograder.sandbox.process import Reply, WorkerProcess
from autograder.sandbox.uids import claim_uid

from autograder import kit

AUTOGRADER_DIR = str(kit.AUTOGRADER_DIR)
KIT_ROOT = str(kit.KIT_ROOT)
SOLUTIONS_DIR = str(kit.SOLUTIONS_DIR)
# How many entries of a host work folder (levels without a sized tmpfs) are counted
# before it is simply declared over its cap.
MAX_WORK_ENTRIES = 100_000
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _trusted_cs231n():
    """The kit's own cs231n package folder (wherever it is installed), never a student's copy."""
    import importlib.util
    in_repo = os.path.join(KIT_ROOT, "assignment", "cs231n")
    if os.path.isfile(os.path.join(in_repo, "__init__.py")):
        return in_repo
    spec = importlib.util.find_spec("cs231n")
    if spec is not None and spec.submodule_search_locations:
        return os.path.abspath(list(spec.submodule_search_locations)[0])
    return os.path.join(KIT_ROOT, "assignment", "cs231n")


KIT_DIRS = {"cs231n": _trusted_cs231n(), "autograder": AUTOGRADER_DIR}


class WorkerSession:
    """
    - folder: private folder of this session (created; holds code/, shared/ and work/)
    - nndl_dir: the nndl package folder to test, copied into folder/code/nndl; None for none
    - level: isolation level name (isolation.available_level(), or 'none' for the trusted
      reference; isolation.LEVELS says what each one does)
    - limits: sandbox.limits.Limits
    - hidden: host folders (or files) the worker must not read
    - data_files: {name: host path} read-only in the worker's data folder
    - extra_env: more environment variables of the worker
    """

    def __init__(self, folder, nndl_dir, level, limits, hidden=(), data_files=None,
                 extra_env=None):
        self.folder = os.path.abspath(folder)
        self.level = level
        strategy = level_of(level)
        self.limits = limits
        self._counter = itertools.count()
        self._worker = None
        self._uid = None
        self.restarts = -1
        # Requests replayed on every (re)started worker, e.g. the imports that set up nndl.
        self.preamble = []
        os.makedirs(self.folder, exist_ok=True)
        os.chmod(self.folder, 0o755)
        code_dir = None
        if nndl_dir is not None:
            code_dir = os.path.join(self.folder, "code")
            shutil.copytree(nndl_dir, os.path.join(code_dir, "nndl"),
                            ignore=shutil.ignore_patterns("__pycache__"))
            _read_only_tree(code_dir)
        # Written by the grader only, before any worker of this session exists.
        self.host_shared = os.path.join(self.folder, "shared")
        os.mkdir(self.host_shared, 0o755)
        os.chmod(self.host_shared, 0o755)
        self._shared_fd = os.open(self.host_shared, _DIRECTORY)
        self.host_work = os.path.join(self.folder, "work")
        os.makedirs(self.host_work, exist_ok=True)
        if strategy.drops_uid(os.geteuid() == 0):
            self._uid = claim_uid()
            os.chown(self.host_work, self._uid.uid, self._uid.uid)
        os.chmod(self.host_work, 0o700)
        bound_data = {}
        if data_files:
            if strategy.own_mount_tree:
                bound_data = dict(data_files)
            else:
                # Without a mount namespace the data folder is a copy in the shared folder.
                os.mkdir("data", 0o755, dir_fd=self._shared_fd)
                data_fd = os.open("data", _DIRECTORY, dir_fd=self._shared_fd)
                try:
                    for name, host in data_files.items():
                        with open(host, "rb") as f:
                            _write_new(data_fd, name, f)
                finally:
                    os.close(data_fd)
        self.layout = Layout(code_dir=code_dir, work_dir=self.host_work,
                             shared_dir=self.host_shared, kit_dirs=dict(KIT_DIRS),
                             hidden=list(hidden), data_files=bound_data)
        uid = self._uid.uid if self._uid else None
        self.launch = plan(level, self.layout, limits,
                           ["--code", plan_code(level, code_dir) if code_dir else "",
                            "--disk-note", disk_note(level, limits)],
                           uid=uid, extra_env=extra_env)

    @property
    def protections(self):
        return self.launch.protections

    @property
    def worker_work_dir(self):
        return self.launch.work_dir

    def _ensure_worker(self):
        if self._worker is None or not self._worker.alive:
            if self._worker is not None:
                self._worker.kill()
            watch = self._work_folder_problem if self.launch.work_limit == WORK_CHECKED \
                else None
            self._worker = WorkerProcess(self.launch, self.limits.output_bytes, watch).start()
            self.restarts += 1
            for message, timeout in self.preamble:
                self._worker.request(message, timeout)
        return self._worker

    def request(self, message, timeout, value=None):
        reply = self._ensure_worker().request(message, timeout, value)
        return self._check_work_folder(reply)

    def import_module(self, name, timeout, failed=None, error_type="ImportError", placeholder=""):
        """Import nndl.<name> in the worker; with `failed`, record it as broken instead.
        placeholder: the trusted class ("autograder.<module>:<Class>") standing in for a module
        that failed (the caller's; the sandbox knows none)."""
        message = {"op": "import", "module": name}
        if placeholder:
            message["placeholder"] = placeholder
        if failed:
            message.update(failed=failed, error_type=error_type)
        reply = self.request(message, timeout)
        if reply.status in ("timeout", "died", "output_limit"):
            # Never import it again: later workers get it recorded as broken.
            reply_message = "importing it %s" % reply.message
            message = dict(message, failed=reply_message, error_type="ImportHang"
                           if reply.status == "timeout" else "ImportCrash")
        self.preamble.append((message, timeout))
        return reply

    def call(self, function: str, kwargs: dict, timeout: float) -> tuple:
        """Run a trusted function in the worker: returns (Reply, result or None)."""
        reply = self.request({"op": "call", "function": function}, timeout, kwargs)
        return reply, (reply.value if reply.status == "ok" else None)

    def write_file(self, name: str, data: bytes) -> str:
        """Put bytes into a fresh folder the worker reads only; returns the path the worker sees."""
        if os.sep in name or name in ("", ".", ".."):
            raise ValueError("write_file takes a plain file name, not %r" % name)
        # A fresh, unguessable folder: nothing can be waiting at the file's name.
        folder = "f%d-%s" % (next(self._counter), secrets.token_hex(6))
        os.mkdir(folder, 0o755, dir_fd=self._shared_fd)
        folder_fd = os.open(folder, _DIRECTORY, dir_fd=self._shared_fd)
        try:
            _write_new(folder_fd, name, data)
        finally:
            os.close(folder_fd)
        return posixpath.join(self.launch.shared_dir, folder, name)

    def close(self):
        if self._worker is not None:
            self._worker.close()
            self._worker = None
        if self._uid is not None:
            self._uid.release()   # kills what is left of the uid and deletes what it left
            self._uid = None
        if self._shared_fd is not None:
            os.close(self._shared_fd)
            self._shared_fd = None

    # -- the work folder on levels without a sized tmpfs -----------------------------------
    def _check_work_folder(self, reply):
        """Past the work folder's cap (where no tmpfs bounds it: checked after each request and
        about once a second during one), the request fails with a message naming the cap,
        and the folder starts empty again."""
        if self.launch.work_limit != WORK_CHECKED:
            return reply
        problem = self._work_folder_problem()
        if problem is None:
            return reply
        if self._worker is not None:
            self._worker.kill()
        _empty_folder(self.host_work, self._uid.uid if self._uid else None)
        return Reply("error", {}, problem, reply.output, reply.seconds)

    def _work_folder_problem(self):
        used = work_folder_bytes(self.host_work)
        if used <= self.limits.work_bytes:
            return None
        return "the sandbox's work folder grew past its limit of %d MB (%s); its files were " \
            "deleted" % (self.limits.work_bytes >> 20, _size_text(used))


def disk_note(level, limits):
    """What the worker tells a student whose code ran out of disk space."""
    level = level_of(level)
    parts = []
    if level.own_mount_tree:
        parts.append("/tmp holds at most %d MB" % (limits.tmp_bytes >> 20))
    if level.isolated:
        parts.append("the work folder %d MB" % (limits.work_bytes >> 20))
        parts.append("one file %d MB" % (limits.file_bytes >> 20))
    return "the sandbox's disk space is capped: " + ", ".join(parts) if parts else ""


def work_folder_bytes(folder):
    """Disk space used under `folder`, counted without following links (capped count)."""
    total, entries = 0, 0
    stack = [folder]
    while stack:
        try:
            with os.scandir(stack.pop()) as listing:
                for entry in listing:
                    entries += 1
                    if entries > MAX_WORK_ENTRIES:
                        return float("inf")
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += max(info.st_blocks * 512, 0)
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue
    return total


def _size_text(size):
    return "more than %d entries" % MAX_WORK_ENTRIES if size == float("inf") else \
        "%d MB" % (size >> 20)


def _empty_folder(folder, uid):
    # shutil.rmtree removes through directory descriptors and never follows a link.
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)
    if uid is not None:
        os.chown(folder, uid, uid)
    os.chmod(folder, 0o700)


def _write_new(dir_fd, name, data):
    """Create `name` under dir_fd (never through a link, never over an existing file), 0644."""
    fd = os.open(name, _NEW_FILE, 0o644, dir_fd=dir_fd)
    with os.fdopen(fd, "wb") as out:
        if isinstance(data, (bytes, bytearray, memoryview)):
            out.write(data)
        else:
            shutil.copyfileobj(data, out, 1 << 20)
        os.fchmod(out.fileno(), 0o644)


def plan_code(level, code_dir):
    return SANDBOX_CODE if level_of(level).own_mount_tree else code_dir


def _read_only_tree(folder):
    for root, dirs, files in os.walk(folder):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
