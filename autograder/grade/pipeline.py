"""Grade one submission: stage it, start the workers, run every item, write the reports."""
import functools
import os
import secrets
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass, field, replace

from autograder import environment
from autograder.checks.charges import charge_causes_once
from autograder.checks.in_worker import IMPORT_FAILURE
from autograder.grade import adapter, heldout
from autograder.grade.aggregate import failed_item
from autograder.grade.beside import Beside
from autograder.grade.items import GraderError
from autograder.grade.runners import run_item
from autograder.policy.leaderboard import leaderboard_extra
from autograder.kit import NNDL_MODULES
from autograder.report import write_reports
from autograder.results.model import GradeResult
from autograder.sandbox.isolation import available_level
from autograder.sandbox.limits import Limits
from autograder.sandbox.session import SOLUTIONS_DIR, WorkerSession
from autograder.spec import SPEC_PATH, select_items
from autograder.submission import locate
from autograder.submission.notebooks import notebook_limit_of

IMPORT_TIMEOUT = 15.0
SUBMODULES = NNDL_MODULES


@dataclass
class GradeOptions:
    """
    - seed: secret seed of the run (None: a fresh random one)
    - retrain: train the model from CNN.ipynb even if a model file was submitted
    - items: comma-separated fnmatch patterns of item ids to grade (None: all)
    - visible_only: grade only the visible items
    - spec_path: grading spec (None: autograder/spec/grading.toml)
    - cifar_dir: CIFAR-10 folder (None: $CIFAR10_DIR or the kit's default)
    - heldout_file: the instructor's held-out images (None: the accuracy item's heldout_file,
      relative to the spec; neither: the public test batch), autograder/grade/heldout.py
    - level: sandbox isolation level (None: the strongest available)
    - training_env: extra environment for the retraining sandbox (e.g. CNN_HOMEWORK_QUICK)
    - reference_dir: folder holding the reference nndl/ (None: the kit's solutions/)
    - published: grades are published, so the feedback drops "hidden until grades are
      published" (results.json keeps Gradescope's after_published either way)
    - overrides: the staff's overrides CSV (None: the spec's [overrides] file, if any)
    """
    seed: int = None
    retrain: bool = False
    items: str = None
    visible_only: bool = False
    spec_path: str = None
    cifar_dir: str = None
    heldout_file: str = None
    level: str = None
    training_env: dict = field(default_factory=dict)
    reference_dir: str = None
    published: bool = False
    overrides: str = None


class Context:
    """What the item runners share for one submission."""

    def __init__(self, grader, seed, submission, tmp, student, name=""):
        self.name = name   # what the reports call the submission (progress lines say it too)
        self.options = grader.options
        self.spec_path = grader.spec_path
        self.seed = seed
        self.submission = submission
        self.tmp = tmp
        self.reference = grader.reference
        self.reference_cache = grader.reference_cache_for(seed)
        self.student = student
        self.limits = grader.limits
        self.level = grader.level
        self.hidden = grader.hidden_dirs(tmp)
        self.extra = {}

    def training_session(self, seconds):
        """
        A fresh sandbox that sees the training data (and not the held-out images).
        NBGRADER_EXECUTION and CNN_HOMEWORK_QUICK stay unset: the notebook trains for real.
        """
        from autograder.grade import data
        files = data.training_files(os.path.join(self.tmp, "training-data"), self.options.cifar_dir)
        folder = tempfile.mkdtemp(prefix="train-", dir=self.tmp)
        limits = replace(self.limits, cpu_seconds=int(seconds) + 120)
        session = WorkerSession(folder, self.submission.nndl_dir if os.path.isdir(
            self.submission.nndl_dir) else None, self.level, limits,
            hidden=self.hidden, data_files=files)
        env = {"CIFAR10_DIR": session.launch.data_dir}
        env.update(self.options.training_env)
        session.launch.env.update(env)
        return session


class Grader:
    """
    Grades submissions one after another with the same options. The trusted reference
    worker stays up between submissions, and its observations are reused for
    submissions graded with the same seed (a class graded under one recorded seed
    computes the reference once). Use as a context manager, or call close().
    """

    def __init__(self, options=None):
        self.options = options or GradeOptions()
        self.spec_path = str(self.options.spec_path or SPEC_PATH)
        self.spec = adapter.load_spec(self.spec_path)
        self.items = [item for item in select_items(self.spec, self.options.items)
                      if not self.options.visible_only or item.visibility == "visible"]
        settings = self.spec.settings
        self.level = self.options.level or available_level()
        self.limits = Limits(cpu_seconds=int(sum(i.time_limit for i in self.items) + 120),
                             memory_mb=int(settings.memory_limit_mb),
                             max_processes=int(settings.max_processes),
                             output_bytes=int(settings.output_limit_kb) * 1024,
                             tmp_bytes=int(settings.tmp_limit_mb) << 20,
                             work_bytes=int(settings.work_limit_mb) << 20)
        self.root = tempfile.mkdtemp(prefix="autograder-")
        os.chmod(self.root, 0o711)  # sandbox uids may pass through to their own folders only
        self._reference = None
        self._cache_seed = None
        self._cache = {}

    @property
    def reference(self):
        if self._reference is None:
            folder = os.path.join(self.root, "reference")
            reference_nndl = os.path.join(self.options.reference_dir or SOLUTIONS_DIR, "nndl")
            self._reference = WorkerSession(folder, reference_nndl, "none", self.limits)
            os.chmod(folder, 0o700)  # the trusted side's files: root only
            _import_modules(self._reference, SUBMODULES, grader_side=True)
        return self._reference

    def reference_cache_for(self, seed):
        if seed != self._cache_seed:
            self._cache_seed, self._cache = seed, {}
        return self._cache

    def hidden_dirs(self, tmp):
        """Host folders (and files) a student sandbox must not read: the reference, the grader's
        data, and every CIFAR-10 copy it could reach (held-out labels live in each)."""
        hidden = [SOLUTIONS_DIR, os.path.join(self.root, "reference"),
                  os.path.join(tmp, "training-data")] + self.heldout_files()
        if self.options.reference_dir:
            hidden.append(self.options.reference_dir)
        return hidden + [path for path in cifar10_copies(self.options.cifar_dir)
                         if path not in hidden]

    def heldout_files(self):
        """The instructor's held-out files the graded accuracy items use (their labels must
        stay out of every sandbox, like the test batch's)."""
        return heldout.heldout_files(self.items, self.spec_path, self.options.heldout_file)

    def grade(self, source, out_dir, seed=None, name=None, records=None):
        """Grade `source` (folder or .zip) into out_dir; returns the GradeResult (reports
        written). records: the result's records this run knows beside the grading
        ({field: value}: a class run's batch, late and lms, the staff's overrides)."""
        result = replace(self.grade_result(source, seed=seed, name=name),
                         **(records or {}))
        write_reports(result, out_dir, published=self.options.published)
        return result

    def grade_result(self, source, seed=None, name=None, stage_into=None):
        """
        Grade `source` (folder or .zip) and return the GradeResult without writing reports.
        - name: what the reports call the submission (default: the file or folder name)
        - stage_into: callable(dest) -> Submission staging it into dest (default: locate(source));
          a remote grader (autograder.batch.dask_cluster) passes files staged elsewhere
        """
        start = time.monotonic()
        if seed is None:
            seed = self.options.seed if self.options.seed is not None else secrets.randbits(63)
        if name is None:
            name = os.path.basename(os.path.normpath(str(source)))
        result = GradeResult(submission=name, seed=seed)
        # the sandbox's workers run this very interpreter, so these are the versions that graded
        result.environment = environment.record(self.spec.environment)
        tmp = tempfile.mkdtemp(prefix="submission-", dir=self.root)
        os.chmod(tmp, 0o711)
        student = None
        try:
            limit = notebook_limit_of(self.spec.settings)
            staging = stage_into or (lambda dest: locate(source, dest, notebook_limit_mb=limit,
                                                         check_notebooks=False))
            submission = staging(os.path.join(tmp, "staged"))
            # The notebooks are parsed (a limited child process) while the student's worker
            # starts and imports; every item runs after (retraining reads CNN.ipynb's verdict).
            with Beside(submission.check_notebooks, limit) as notebooks:
                nndl_dir = submission.nndl_dir if os.path.isdir(submission.nndl_dir) else None
                student = WorkerSession(os.path.join(tmp, "student"), nndl_dir, self.level,
                                        self.limits, hidden=self.hidden_dirs(tmp))
                result.sandbox = dict(student.protections)
                ctx = Context(self, seed, submission, tmp, student, name=name)
                _import_modules(student, [m for m in SUBMODULES if m in submission.modules],
                                missing=[m for m in SUBMODULES if m not in submission.modules])
            notebooks.result()   # raises what the check raised, as locate() did
            result.problems = submission.problems()
            result.notes = list(submission.notes)
            if submission.unreadable():
                # not a student's real zero: the course staff looks at the file (gradebook,
                # summary and report.html list it to review)
                result.unreadable = submission.unreadable()
            for item in self.items:
                result.items.append(self._run(ctx, item, result))
            result.items = charge_causes_once(result.items)
            result.extra.update(ctx.extra)
            result.extra.update(leaderboard_extra(self.spec.leaderboard, self.spec.ids(),
                                                  ctx.extra))
            result.extra["worker_restarts"] = max(student.restarts, 0)
        except Exception:
            result.grader_error = traceback.format_exc()
        finally:
            if student is not None:
                student.close()
            shutil.rmtree(tmp, ignore_errors=True)
        result.execution_time = time.monotonic() - start
        return result

    def _run(self, ctx, item, result):
        try:
            return run_item(ctx, item)
        except GraderError as error:
            result.grader_error = result.grader_error or str(error)
            return failed_item(item, "grader problem (not your fault): %s"
                               % str(error).splitlines()[0])
        except Exception:
            result.grader_error = result.grader_error or traceback.format_exc()
            return failed_item(item, "grader problem (not your fault); the course staff has "
                               "the details")

    def close(self):
        if self._reference is not None:
            self._reference.close()
            self._reference = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def grade(source, out_dir, options=None, records=None):
    """Grade one submission (folder or .zip) into out_dir; returns the GradeResult.
    records: as Grader.grade (e.g. {"overrides": the staff's requests}, applied)."""
    with Grader(options) as grader:
        return grader.grade(source, out_dir, records=records)


def cifar10_copies(cifar_dir=None):
    """
    Every CIFAR-10 copy a sandbox might reach: --cifar-dir, $CIFAR10_DIR, the kit's default
    folder, the one the loader picks, any folder holding a test_batch or a CIFAR-10 archive
    under the kit or its trusted packages, and the shared archive beside the clone.
    """
    from cs231n import data_utils
    from autograder.sandbox.session import KIT_DIRS, KIT_ROOT
    found = [str(p) for p in (cifar_dir, os.environ.get(data_utils.CIFAR10_DIR_ENV),
                              data_utils.DEFAULT_CIFAR10_DIR) if p]
    try:
        found.append(str(data_utils.find_cifar10_dir(cifar_dir)))
    except Exception:  # no data set: nothing more to hide
        pass
    found += _cifar10_under(tuple([KIT_ROOT] + sorted(KIT_DIRS.values())))
    found.append(os.path.join(os.path.dirname(KIT_ROOT), "shared", "datasets",
                              "cifar-10-python.tar.gz"))
    unique = []
    for path in found:
        path = os.path.abspath(path)
        if path not in unique and os.path.exists(path):
            unique.append(path)
    return unique


@functools.lru_cache(maxsize=4)
def _cifar10_under(tops, max_folders=20000):
    """Folders holding a test_batch and CIFAR-10 archives under `tops` (walked once per process)."""
    from cs231n.data_utils import TEST_BATCH
    found, folders = [], 0
    for top in tops:
        for root, dirs, files in os.walk(top):
            folders += 1
            if folders > max_folders:
                return tuple(found)
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
            if TEST_BATCH in files:
                found.append(root)
            found += [os.path.join(root, f) for f in files if f.startswith("cifar-10")
                      and f.endswith((".tar.gz", ".tgz", ".tar"))]
    return tuple(found)




def _import_modules(session, modules, missing=(), grader_side=False):
    for name in missing:
        session.import_module(name, IMPORT_TIMEOUT, failed="nndl/%s.py is missing from the "
                              "submission" % name, error_type="FileNotFoundError",
                              placeholder=IMPORT_FAILURE)
    for name in modules:
        reply = session.import_module(name, IMPORT_TIMEOUT * (4 if grader_side else 1),
                                      placeholder=IMPORT_FAILURE)
        if grader_side and reply.status != "ok":
            raise GraderError("the reference nndl.%s does not import: %s %s"
                              % (name, reply.message, reply.output[-500:]))
