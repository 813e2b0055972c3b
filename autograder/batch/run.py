"""A class run: discover the submissions, resume what is finished, grade the rest, summarise."""
import hashlib
import os
import sys
from dataclasses import replace

from autograder import lms
from autograder.batch import discover, state
from autograder.batch.backends import backend_for
from autograder.policy import late, overrides
from autograder.report import changes, gradebook
from autograder.results import records, store
from autograder.batch.progress import Progress
from autograder.batch.tasks import GradeTask


def default_jobs():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def selection_of(options):
    """What a run grades besides the spec (a rerun must choose the same to resume), the
    course's held-out file included: its digest, when the accuracy items use one."""
    selection = {"items": options.items, "visible_only": bool(options.visible_only),
                 "retrain": bool(options.retrain)}
    from autograder.grade import heldout
    from autograder.spec import SPEC_PATH
    files = heldout.heldout_files(graded_items(options),
                                  str(options.spec_path or SPEC_PATH),
                                  options.heldout_file)
    if files:
        selection["heldout_sha256"] = [_file_digest(path) for path in files]
    return selection


def _file_digest(path):
    """sha256 of a file ('missing' if it cannot be read: grading will say why)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return "missing"
    return digest.hexdigest()


LMS_DIR = ".lms"     # GRADES_DIR/.lms: LMS archives unpacked (autograder.lms)


def plan(paths, grades_dir, options, force=False, lms_from=None, say=None):
    """
    (entries, tasks still to grade, record of the run, late warning); writes batch.json.
    The late warning is late.untimed_warning's line ('' when every submission has a time).
    lms_from and say: discover.discover's (an LMS archive's kind, its summary line).
    """
    from autograder.spec import SPEC_PATH
    try:
        entries = discover.discover(paths, lms_from, os.path.join(grades_dir, LMS_DIR), say)
    except lms.LmsError as error:
        raise state.StateError(str(error))
    os.makedirs(grades_dir, exist_ok=True)
    state.remove_partial_files(grades_dir)
    spec_path = str(options.spec_path or SPEC_PATH)
    record = state.settle_batch(grades_dir, spec_path, selection_of(options),
                                seed=options.seed, force=force)
    try:
        late_of = late.class_policy(spec_path)
    except late.LateError as error:
        raise state.StateError("late policy: %s" % error)
    try:   # a bad override stops the run before anything is graded
        found = overrides.class_overrides(spec_path, options.overrides,
                                          [entry.id for entry in entries])
    except overrides.OverrideError as error:
        raise state.StateError(str(error))
    tasks, late_records = [], []
    for entry in entries:
        out_dir = os.path.join(grades_dir, entry.id)
        fingerprint = state.fingerprint(entry.path)
        late_record = late_of(entry.id, entry.path, entry.trusted)
        late_records.append(late_record)
        identity = lms.with_late_review(entry.lms, late_record)
        requests = overrides.requests_for(found, entry.id)
        previous = store.load(out_dir)
        if force or not records.finished(previous, fingerprint, record["seed"]) \
                or records.late(previous) != late_record or records.lms(previous) != identity \
                or records.override_requests(previous) != requests:
            tasks.append(GradeTask(entry.id, entry.path, out_dir, record["seed"], fingerprint,
                                   late_record, identity, requests))
    changes.keep_previous(grades_dir, [task.id for task in tasks])
    return entries, tasks, record, late.untimed_warning(late_records)


def graded_items(options):
    from autograder.grade import adapter
    from autograder.spec import SPEC_PATH, select_items
    spec = adapter.load_spec(str(options.spec_path or SPEC_PATH))
    return [item for item in select_items(spec, options.items)
            if not options.visible_only or item.visibility == "visible"]


def retraining_plan(tasks, items, forced):
    """The line a class run prints before it starts about the submissions whose model the grader
    trains from CNN.ipynb (all of them under --retrain, else those without a model file when the
    spec's missing_model is "retrain") or scores 0 for want of one; '' when there are none or
    no accuracy item is graded."""
    from autograder.checks import kinds
    from autograder.checks.kinds.accuracy import MISSING_RETRAIN
    from autograder.submission.unpack import holds_model
    accuracy_items = kinds.saved_model_items(items)
    if not accuracy_items or not tasks:
        return ""
    item = accuracy_items[0]
    limit = float(item.extras["retrain_time_limit"])
    if forced:
        return ("retraining all %d submission(s) to grade from CNN.ipynb (--retrain), up to "
                "%.0f s each" % (len(tasks), limit))
    without = sum(1 for task in tasks if not holds_model(task.source))
    if not without:
        return ""
    if item.extras.get("missing_model") == MISSING_RETRAIN:
        return ("retraining %d of the %d submission(s) to grade: no %s, so the grader trains "
                "one from CNN.ipynb (missing_model = \"retrain\"), up to %.0f s each"
                % (without, len(tasks), item.extras["model_file"], limit))
    return ("%d of the %d submission(s) to grade have no %s: their accuracy item gets 0 "
            "(missing_model = \"zero\"; nothing is retrained)"
            % (without, len(tasks), item.extras["model_file"]))


def run_class(paths, grades_dir, options, jobs=None, force=False, scheduler=None,
              out=None, err=None, lms_from=None):
    """
    Grade every submission under `paths` into grades_dir/<id>/, then write gradebook.csv
    and summary.md. Returns (summary text, list of Done for the submissions graded now).
    - jobs: pool size on this machine (default: the cores)
    - scheduler: a Dask scheduler address: grade on that cluster instead
    - lms_from: 'canvas' or 'gradescope': read the paths as that LMS's archive (default:
      recognised by their names)
    """
    out = out or sys.stdout
    err = err or sys.stderr
    entries, tasks, record, late_warning = plan(paths, grades_dir, options, force=force,
                                                lms_from=lms_from,
                                                say=lambda line: print(line, file=err))
    if late_warning:
        print(late_warning, file=err)
    options = replace(options, seed=record["seed"])
    from autograder.similarity.run import record_sources
    record_sources(grades_dir, entries)
    items = graded_items(options)
    jobs = jobs or default_jobs()
    finished = len(entries) - len(tasks)
    backend = backend_for(scheduler)
    where = backend.where(jobs, scheduler)
    print("grading %d of %d submissions (%d already finished) on %s; seed recorded in %s"
          % (len(tasks), len(entries), finished, where,
             os.path.join(grades_dir, state.BATCH_FILE)), file=err)
    retrain_line = retraining_plan(tasks, items, options.retrain)
    if retrain_line:
        print(retrain_line, file=err)
    progress = Progress(len(entries), already=finished, stream=err)
    graded = []

    def on_done(done):
        graded.append(done)
        progress.advance("%s %s/%s%s" % (done.id, _points(done.score), _points(done.max_score),
                                         " (grader error)" if done.grader_error else ""))

    if tasks:
        backend.grade(tasks, options, items, on_done, jobs, scheduler)
    progress.finish()
    ids = [entry.id for entry in entries]
    text = gradebook.write_class_reports(grades_dir, ids)
    changed = changes.write_changes(grades_dir)
    text = _instructor_reports(grades_dir, ids, options, jobs, text, err)
    print(text, file=out)
    print("gradebook: %s" % os.path.join(grades_dir, gradebook.GRADEBOOK_FILE), file=out)
    if changed is not None:
        print("regrade: %d submission(s) changed, see %s" % (changed, os.path.join(
            grades_dir, changes.CHANGES_FILE)), file=out)
    return text, graded


def _instructor_reports(grades_dir, ids, options, jobs, text, err):
    """The similarity report, then the class report (report.html, which lists its pairs);
    summary.md gets the similarity section.
    Neither may stop a class run: a failure is printed and the grades stand."""
    from autograder.grade import adapter
    from autograder.spec import SPEC_PATH
    from autograder.report import class_report
    from autograder.batch.discover import prior_sources
    from autograder.similarity.run import add_to_summary, against_folder, \
        recorded_sources, run_similarity
    try:
        spec_path = str(options.spec_path or SPEC_PATH)
        policy = adapter.load_spec(spec_path).similarity
        sources = {sid: path for sid, path in recorded_sources(grades_dir).items() if sid in ids}
        folder = against_folder(policy, spec_path)
        result = run_similarity(grades_dir, sources, policy, jobs=jobs,
                                prior=prior_sources(folder) if folder else None)
        add_to_summary(grades_dir, result.section, gradebook.SUMMARY_FILE)
        text = text.rstrip("\n") + "\n\n" + result.section
    except Exception as error:  # noqa: BLE001 - reported, the grades stand
        print("similarity report failed: %s: %s" % (type(error).__name__, error), file=err)
    try:   # after the similarity run: the class report lists its pairs
        class_report.write_class_report(grades_dir, ids)
    except Exception as error:  # noqa: BLE001 - reported, the grades stand
        print("class report failed: %s: %s" % (type(error).__name__, error), file=err)
    return text


def _points(value):
    value = round(float(value), 2)
    return ("%d" % value) if value == int(value) else ("%g" % value)
