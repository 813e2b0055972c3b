"""Grade a class on a Dask distributed cluster: one task per submission.

Dask's own scheduler and workers do the queueing, placement and retries (a task
on a worker that dies is rerun elsewhere); nothing here is a home-made queue.

The workers need the kit installed (`pip install ".[dask]"`, non-editable is fine) and,
for the accuracy item, their own CIFAR-10 copy ($CIFAR10_DIR or the kit's datasets
folder); they need no shared file system and no reference solutions. The client (the
`grade` command) sends them, as data scattered to the workers (never inside the task
graph): its reference nndl sources, the grading spec's text and the course's held-out
file (the spec's heldout_file or --heldout-file, when set) once, and each
submission's files staged with the same safe unpacking as a local run. A worker writes
the reference into a private folder, grades and returns the GradeResult (built by the
grader, never by student code); the client writes the reports atomically into
GRADES_DIR, exactly as a local run does. Only a bounded window of submissions is in
flight, so a class of 700 is never held in memory at once.
"""
import hashlib
import os
import shutil
import tempfile
import threading
from dataclasses import asdict, replace

from autograder.batch.tasks import done_from, write_crash_reports
from autograder.report import write_reports
from autograder.spec import SPEC_FILE

IN_FLIGHT_PER_THREAD = 2
# An unreachable scheduler is a usage error, said at once (Dask's default waits 30 s).
CONNECT_TIMEOUT_SECONDS = 5
# A submission whose scattered files died with their worker is staged and sent again.
RESUBMISSIONS = 2


class ClusterProblem(Exception):
    """The cluster cannot be used (no distributed, no reference, no scheduler): one line."""


def connect(scheduler_address):
    """A distributed.Client on scheduler_address, or ClusterProblem saying why not."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterProblem('--dask-scheduler needs Dask: pip install ".[dask]"') from None
    try:
        return Client(scheduler_address, timeout="%ds" % CONNECT_TIMEOUT_SECONDS)
    except (OSError, ValueError, TypeError) as error:
        raise ClusterProblem("cannot reach the Dask scheduler at %s (%s): is `dask scheduler` "
                             "running there and its port open to this machine?"
                             % (scheduler_address, str(error).splitlines()[0] if str(error)
                                else type(error).__name__)) from None


def check_cluster(scheduler_address, options):
    """Raise ClusterProblem before anything is graded if a class cannot run on the cluster."""
    reference_sources(options)
    with connect(scheduler_address) as client:
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_SECONDS)
        except (TimeoutError, OSError):
            raise ClusterProblem("the Dask scheduler at %s has no workers: start them with "
                                 "`dask worker %s` (see the README)"
                                 % (scheduler_address, scheduler_address)) from None


def reference_sources(options):
    """{file name: bytes} of the reference nndl package the workers grade against: the one
    this command would use locally (options.reference_dir or the kit's solutions/)."""
    from autograder.sandbox.session import SOLUTIONS_DIR
    folder = os.path.join(options.reference_dir or SOLUTIONS_DIR, "nndl")
    names = sorted(n for n in os.listdir(folder) if n.endswith(".py")) \
        if os.path.isdir(folder) else []
    if "__init__.py" not in names:
        raise ClusterProblem("the reference solutions are not at %s: run the command with the "
                             "kit's own checkout (pip install -e) or set AUTOGRADER_SOLUTIONS "
                             "to the folder holding nndl/" % folder)
    sources = {}
    for name in names:
        with open(os.path.join(folder, name), "rb") as f:
            sources[name] = f.read()
    return sources


def grade_on_dask(tasks, options, items, scheduler_address, on_done):
    """Grade `tasks` (GradeTask) on the cluster at scheduler_address; on_done(Done) each."""
    from distributed import as_completed
    from autograder.spec import SPEC_PATH
    spec_path = options.spec_path or SPEC_PATH
    with open(spec_path, encoding="utf-8") as f:
        spec_text = f.read()
    kit = {"spec": spec_text, "reference": reference_sources(options),
           "heldout": heldout_bytes(items, spec_path, options.heldout_file)}
    remote_options = asdict(replace(options, spec_path=None, reference_dir=None,
                                    heldout_file=None))
    with connect(scheduler_address) as client:
        threads = sum(client.nthreads().values()) or 1
        window = max(2, IN_FLIGHT_PER_THREAD * threads)
        # Sent once to every worker (a worker that joins later copies it from a peer).
        [kit_data] = client.scatter([kit], broadcast=True)
        queue = [(task, 0) for task in tasks]
        futures = {}

        def submit_next():
            task, attempt = queue.pop(0)
            # The staged files travel as scattered data, not in the graph: a model is 33 MB.
            [files] = client.scatter([stage_payload(task)], hash=False)
            future = client.submit(grade_remote, files, remote_options, kit_data, task.seed,
                                   key="autograder-grade-%s-%s-%d"
                                   % (task.id, task.fingerprint, attempt), pure=False)
            futures[future] = (task, attempt, files)
            return future

        running = as_completed([submit_next() for _ in range(min(window, len(queue)))])
        for future in running:
            task, attempt, files = futures.pop(future)
            try:
                result = future.result()
            except Exception as error:  # the task failed on every worker Dask tried
                if _data_lost(future, error) and attempt < RESUBMISSIONS:
                    queue.insert(0, (task, attempt + 1))
                else:
                    on_done(write_crash_reports(task, items, "on the Dask cluster: %s: %s"
                                                % (type(error).__name__, error)))
            else:
                result = replace(result, **task.records())
                write_reports(result, task.out_dir, published=options.published)
                on_done(done_from(task, result))
            finally:
                files.release()
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


def _data_lost(future, error):
    """The task never ran because its scattered files were lost with their worker (Dask
    cancels it: "lost dependencies")."""
    from concurrent.futures import CancelledError
    return isinstance(error, CancelledError) or future.status == "cancelled"


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
HELDOUT_NAME = "heldout.npz"   # the course's held-out file in a worker's kit folder
_kit_root = None
_kit_lock = threading.Lock()


def grade_remote(payload, options_fields, kit, seed):
    """Runs on a Dask worker: grade a staged payload with this thread's Grader, against the
    reference and spec the client sent (`kit`)."""
    grader = _grader_for(options_fields, kit)
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


def _grader_for(options_fields, kit):
    """One Grader per worker thread and kit (its reference observations are reused)."""
    from autograder.grade.pipeline import GradeOptions, Grader
    spec_path, reference_dir = _kit_files(kit)
    if kit.get("heldout") is not None:   # the client's held-out file, written beside the spec
        options_fields = dict(options_fields, heldout_file=os.path.join(
            os.path.dirname(spec_path), HELDOUT_NAME))
    key = (repr(sorted(options_fields.items())), spec_path, reference_dir)
    graders = getattr(_local, "graders", None)
    if graders is None:
        graders = _local.graders = {}
    if key not in graders:
        for old in graders.values():
            old.close()
        graders.clear()
        options = GradeOptions(**dict(options_fields, spec_path=spec_path,
                                      reference_dir=reference_dir))
        graders[key] = Grader(options)
        import atexit
        atexit.register(graders[key].close)
    return graders[key]


def _kit_files(kit):
    """(spec path, folder holding the reference nndl/) written from the client's kit into this
    worker process's private folder (0700: the grader's own; the reference folder is also
    among the paths hidden from student sandboxes), once per distinct kit."""
    global _kit_root
    digest = hashlib.sha256(kit["spec"].encode())
    digest.update(hashlib.sha256(kit.get("heldout") or b"").digest())
    for name, data in sorted(kit["reference"].items()):
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    digest = digest.hexdigest()[:16]
    with _kit_lock:
        if _kit_root is None:
            _kit_root = tempfile.mkdtemp(prefix="autograder-kit-")
            import atexit
            atexit.register(shutil.rmtree, _kit_root, True)
        folder = os.path.join(_kit_root, digest)
        if not os.path.isdir(folder):
            partial = folder + ".part"
            os.makedirs(os.path.join(partial, "reference", "nndl"))
            for name, data in kit["reference"].items():
                if os.path.basename(name) == name and name.endswith(".py"):
                    with open(os.path.join(partial, "reference", "nndl", name), "wb") as f:
                        f.write(data)
            with open(os.path.join(partial, SPEC_FILE), "w", encoding="utf-8") as f:
                f.write(kit["spec"])
            if kit.get("heldout") is not None:
                with open(os.path.join(partial, HELDOUT_NAME), "wb") as f:
                    f.write(kit["heldout"])
            os.rename(partial, folder)
    return os.path.join(folder, SPEC_FILE), os.path.join(folder, "reference")
