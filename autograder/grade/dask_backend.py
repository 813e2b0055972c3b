"""Grade a class on a Dask distributed cluster: one task per submission.

Dask's own scheduler and workers do the queueing, placement and retries (a task
on a worker that dies is rerun elsewhere); nothing here is a home-made queue.

The workers need the kit installed (pip install .) and, for the accuracy item,
their own CIFAR-10 copy ($CIFAR10_DIR or the kit's datasets folder); they need no
shared file system. The course's own held-out file (the spec's heldout_file or
--heldout-file) is read here and sent to every worker once (scatter, broadcast);
a worker keeps it in a private temporary file of its own. The client (the `grade`
command) stages each submission with the same safe unpacking as a local run and
ships only the staged files and the grading spec's text; the worker grades them and
returns the GradeResult (built by the grader, never by student code); the client
writes the reports atomically into GRADES_DIR, exactly as a local run does. Only a
bounded window of submissions is in flight, so a class of 700 is never held in memory
at once.
"""
import hashlib
import os
import shutil
import tempfile
import threading
from dataclasses import asdict, replace

from autograder.batch.tasks import done_from, write_crash_reports
from autograder.report import write_reports

IN_FLIGHT_PER_THREAD = 2
CONNECT_TIMEOUT = "30s"


def grade_on_dask(tasks, options, items, scheduler_address, on_done):
    """Grade `tasks` (GradeTask) on the cluster at scheduler_address; on_done(Done) each."""
    from distributed import Client, as_completed
    from autograder.grade.pipeline import _default_spec_path
    spec_path = options.spec_path or _default_spec_path()
    with open(spec_path, encoding="utf-8") as f:
        spec_text = f.read()
    private = heldout_bytes(items, spec_path, options.heldout_file)
    remote_options = asdict(replace(options, spec_path=None, heldout_file=None))
    with Client(scheduler_address, timeout=CONNECT_TIMEOUT) as client:
        if private is not None:
            private = client.scatter(private, broadcast=True)
        threads = sum(client.nthreads().values()) or 1
        window = max(2, IN_FLIGHT_PER_THREAD * threads)
        queue = list(tasks)
        futures = {}

        def submit_next():
            task = queue.pop(0)
            payload = stage_payload(task)
            future = client.submit(grade_remote, payload, remote_options, spec_text, task.seed,
                                   private, pure=False,
                                   key="autograder-grade-%s-%s" % (task.id, task.fingerprint))
            futures[future] = task
            return future

        running = as_completed([submit_next() for _ in range(min(window, len(queue)))])
        for future in running:
            task = futures.pop(future)
            try:
                result = future.result()
            except Exception as error:  # the task failed on every worker Dask tried
                on_done(write_crash_reports(task, items, "on the Dask cluster: %s: %s"
                                            % (type(error).__name__, error)))
            else:
                result.extra.update(task.batch_record())
                write_reports(result, task.out_dir)
                on_done(done_from(task, result))
            if queue:
                running.add(submit_next())


def heldout_bytes(items, spec_path, override=None):
    """The bytes of the held-out file the graded accuracy items use (None: the public test
    batch). A spec's relative path means nothing on a worker, so the file travels instead."""
    from autograder.grade import heldout
    paths = heldout.heldout_files(items, spec_path, override)
    if len(paths) > 1:
        raise heldout.HeldoutFileError("a Dask run sends one held-out file to its workers; the "
                                       "accuracy items name %s" % ", ".join(paths))
    if not paths:
        return None
    heldout.load_heldout_file(paths[0])   # checked here, where the instructor reads the error
    with open(paths[0], "rb") as f:
        return f.read()


def stage_payload(task):
    """Stage the submission here (safe unpacking) and pack what the grader needs to ship."""
    from autograder.submission import locate
    folder = tempfile.mkdtemp(prefix="autograder-stage-")
    try:
        submission = locate(task.source, os.path.join(folder, "staged"))
        files = {}
        root = submission.root
        if os.path.isdir(root):
            for dirpath, _, names in os.walk(root):
                for name in names:
                    path = os.path.join(dirpath, name)
                    with open(path, "rb") as f:
                        files[os.path.relpath(path, root).replace(os.sep, "/")] = f.read()
        fields = asdict(submission)
        fields["root"] = None
        if submission.model_path:
            fields["model_path"] = os.path.relpath(submission.model_path, root)
        return {"name": task.name, "submission": fields, "files": files}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- on the worker ----------------------------------------------------------------------------
_local = threading.local()
_spec_dir = None
_spec_lock = threading.Lock()


def grade_remote(payload, options_fields, spec_text, seed, heldout=None):
    """Runs on a Dask worker: grade a staged payload with this thread's Grader (heldout: the
    held-out file's bytes, or None)."""
    if heldout is not None:
        options_fields = dict(options_fields, heldout_file=_private_file(heldout, ".npz"))
    grader = _grader_for(options_fields, spec_text)
    return grader.grade_result(payload["name"], seed=seed, name=payload["name"],
                               stage_into=lambda dest: unpack_payload(payload, dest))


def unpack_payload(payload, dest):
    from autograder.submission import Submission
    os.makedirs(dest, exist_ok=True)
    for relative, data in payload["files"].items():
        parts = relative.split("/")
        if any(part in ("", ".", "..") for part in parts):
            continue  # the client staged these itself; anything else is not ours
        path = os.path.join(dest, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    fields = dict(payload["submission"])
    fields["root"] = dest
    if fields.get("model_path"):
        fields["model_path"] = os.path.join(dest, fields["model_path"])
    return Submission(**fields)


def _grader_for(options_fields, spec_text):
    """One Grader per worker thread and spec (its reference observations are reused)."""
    from autograder.grade.pipeline import GradeOptions, Grader
    key = hashlib.sha256((repr(sorted(options_fields.items())) + spec_text).encode()).hexdigest()
    graders = getattr(_local, "graders", None)
    if graders is None:
        graders = _local.graders = {}
    if key not in graders:
        for old in graders.values():
            old.close()
        graders.clear()
        options = GradeOptions(**dict(options_fields, spec_path=_spec_file(spec_text)))
        graders[key] = Grader(options)
        import atexit
        atexit.register(graders[key].close)
    return graders[key]


def _spec_file(spec_text):
    return _private_file(spec_text.encode("utf-8"), ".toml")


def _private_file(content, suffix):
    """A file of this worker holding `content` (named by its digest, written once), in a
    folder only this user reads (mkdtemp's 0700)."""
    global _spec_dir
    with _spec_lock:
        if _spec_dir is None:
            _spec_dir = tempfile.mkdtemp(prefix="autograder-spec-")
        path = os.path.join(_spec_dir, hashlib.sha256(content).hexdigest()[:16] + suffix)
        if not os.path.exists(path):
            with open(path + ".part", "wb") as f:
                f.write(content)
            os.replace(path + ".part", path)
    return path
