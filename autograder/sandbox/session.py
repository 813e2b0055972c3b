"""One worker for one nndl package (a student's, sandboxed, or the trusted reference).

A session owns a private working folder and restarts its worker after a crash or a
timeout, so a failing request costs that request only.
"""
import itertools
import os
import shutil

from autograder.sandbox import arrays
from autograder.sandbox.isolation import Layout, plan, python_reachable_by_others
from autograder.sandbox.process import Reply, WorkerProcess
from autograder.sandbox.uids import claim_uid

AUTOGRADER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KIT_ROOT = os.path.dirname(AUTOGRADER_DIR)
# The reference solutions: the kit's solutions/ unless AUTOGRADER_SOLUTIONS points elsewhere
# (e.g. an installed kit on Gradescope).
SOLUTIONS_DIR = os.environ.get("AUTOGRADER_SOLUTIONS") or os.path.join(KIT_ROOT, "solutions")


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
    - folder: private folder of this session (created; holds code/ and work/)
    - nndl_dir: the nndl package folder to test, copied into folder/code/nndl; None for none
    - level: isolation level (isolation.available_level(), or 'none' for the trusted reference)
    - limits: sandbox.limits.Limits
    - hidden: host folders the worker must not read
    - data_files: {name: host path} read-only in the worker's data folder
    - pythonpath: extra host folders first on sys.path (trusted sessions only)
    """

    def __init__(self, folder, nndl_dir, level, limits, hidden=(), data_files=None,
                 pythonpath=(), extra_env=None):
        self.folder = os.path.abspath(folder)
        self.level = level
        self.limits = limits
        self._counter = itertools.count()
        self._worker = None
        self._uid = None
        self.restarts = -1
        # Requests replayed on every (re)started worker, e.g. the imports that set up nndl.
        self.preamble = []
        os.makedirs(self.folder, exist_ok=True)
        code_dir = None
        if nndl_dir is not None:
            code_dir = os.path.join(self.folder, "code")
            shutil.copytree(nndl_dir, os.path.join(code_dir, "nndl"),
                            ignore=shutil.ignore_patterns("__pycache__"))
            _read_only_tree(code_dir)
        self.host_work = os.path.join(self.folder, "work")
        os.makedirs(self.host_work, exist_ok=True)
        if level != "none" and os.geteuid() == 0 and (level == "bwrap" or python_reachable_by_others()):
            self._uid = claim_uid()
            os.chown(self.host_work, self._uid.uid, self._uid.uid)
        os.chmod(self.host_work, 0o700)
        self.layout = Layout(code_dir=code_dir, work_dir=self.host_work, kit_dirs=dict(KIT_DIRS),
                             hidden=list(hidden), data_files=dict(data_files or {}),
                             extra_pythonpath=list(pythonpath))
        if level != "bwrap" and data_files:
            # Without a mount namespace the data folder is a private copy in the work folder.
            data_dir = os.path.join(self.host_work, "data")
            os.makedirs(data_dir, exist_ok=True)
            for name, host in data_files.items():
                shutil.copyfile(host, os.path.join(data_dir, name))
                os.chmod(os.path.join(data_dir, name), 0o644)
        self.launch = plan(level, self.layout, limits,
                           ["--code", (os.path.join(plan_code(level, code_dir)) if code_dir else "")],
                           uid=self._uid.uid if self._uid else None, extra_env=extra_env)

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
            self._worker = WorkerProcess(self.launch, self.limits.output_bytes).start()
            self.restarts += 1
            for message, timeout in self.preamble:
                self._worker.request(message, timeout)
        return self._worker

    def request(self, message, timeout):
        return self._ensure_worker().request(message, timeout)

    def import_module(self, name, timeout, failed=None, error_type="ImportError"):
        """Import nndl.<name> in the worker; with `failed`, record it as broken instead."""
        message = {"op": "import", "module": name}
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

    def call(self, function, kwargs, timeout):
        """Run a trusted function in the worker: returns (Reply, result or None)."""
        args = self._write_input(kwargs)
        out = self._stem("out")
        reply = self.request({"op": "call", "function": function, "args": args[1],
                              "out": out[1]}, timeout)
        return self._read_result(reply, out[0])

    def observe(self, kind, spec_path, item_id, case, timeout, probes=True):
        """observe(item, case, nndl_modules) of check `kind` in the worker: (Reply, observation)."""
        case_stem = self._write_input(case)
        spec_host = os.path.join(self.host_work, "spec.toml")
        if not os.path.exists(spec_host):
            shutil.copyfile(spec_path, spec_host)
            os.chmod(spec_host, 0o644)
        out = self._stem("out")
        reply = self.request({"op": "observe", "kind": kind, "item": item_id,
                              "spec": os.path.join(self.launch.work_dir, "spec.toml"),
                              "case": case_stem[1], "out": out[1], "probes": probes}, timeout)
        return self._read_result(reply, out[0])

    def write_file(self, name, data):
        """Put bytes into the working folder; returns the path the worker sees."""
        path = os.path.join(self.host_work, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o644)
        return os.path.join(self.launch.work_dir, name)

    def host_path(self, worker_path):
        """Host path of a file the worker names inside its working folder (None if outside)."""
        relative = os.path.relpath(worker_path, self.launch.work_dir)
        if relative.startswith(".."):
            return None
        return os.path.join(self.host_work, relative)

    def close(self):
        if self._worker is not None:
            self._worker.close()
            self._worker = None
        if self._uid is not None:
            _kill_leftovers(self._uid.uid)
            self._uid.release()
            self._uid = None

    # -- files ------------------------------------------------------------------------------
    def _stem(self, prefix):
        name = "%s-%d" % (prefix, next(self._counter))
        return os.path.join(self.host_work, name), os.path.join(self.launch.work_dir, name)

    def _write_input(self, value):
        host, inside = self._stem("in")
        arrays.save(host, value)
        for suffix in (".npz", ".json"):
            os.chmod(host + suffix, 0o644)
        return host, inside

    def _read_result(self, reply, host_stem):
        if reply.status != "ok":
            return reply, None
        try:
            return reply, arrays.load(host_stem)
        except Exception as error:  # whatever the worker left there, it is only data
            return Reply("error", {}, "the result could not be read back (%s: %s)"
                         % (type(error).__name__, error), reply.output, reply.seconds), None


def plan_code(level, code_dir):
    from autograder.sandbox.isolation import SANDBOX_CODE
    return SANDBOX_CODE if level == "bwrap" else code_dir


def _read_only_tree(folder):
    for root, dirs, files in os.walk(folder):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)


def _kill_leftovers(uid):
    """Kill any process still running as the sandbox uid (only the weaker levels can leak one)."""
    import signal
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/status" % entry) as f:
                for line in f:
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) == uid:
                            os.kill(int(entry), signal.SIGKILL)
                        break
        except (OSError, ValueError):
            continue
