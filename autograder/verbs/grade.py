"""`python -m autograder grade SUBMISSION... --out DIR`: grade one submission or a class.

One path that is itself a submission (a .zip, or a folder holding the notebooks,
nndl/ or cnn_model.npz): writes DIR/results.json (Gradescope schema),
DIR/feedback.md and DIR/feedback.html, and prints a one-screen summary.

Several paths, a folder of submissions, or an LMS archive (Canvas's download or
Gradescope's export, recognised or named by --from: autograder.lms): a class run
(autograder.batch) grades them in parallel (--jobs, or a Dask cluster with
--dask-scheduler) into DIR/<submission id>/, resumes a killed run (--force regrades), and
writes DIR/gradebook.csv and DIR/summary.md.

Exit status 0 whenever grading ran, whatever the score; 2 for usage errors; 3 when
the grader itself failed on some submission (the reports say so).
"""
import os
import sys

from autograder.checks import kinds
from autograder.kit import forget_working_directory
from autograder.report import feedback
from autograder.results import store

USAGE_ERROR = 2
GRADER_ERROR = 3


def add_arguments(parser):
    from autograder.submission.layout import MODEL_FILE
    parser.add_argument("submission", nargs="+",
                        help="a submission (folder or .zip holding the notebooks, nndl/ and "
                        "%s), several, or folders of submissions (a class)" % MODEL_FILE)
    parser.add_argument("--out", required=True,
                        help="folder for results.json and feedback (a class: one folder per "
                        "submission, gradebook.csv and summary.md)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="class runs: submissions graded at once (default: the cores)")
    parser.add_argument("--force", action="store_true",
                        help="class runs: regrade submissions that are already finished")
    parser.add_argument("--dask-scheduler", default=None, metavar="tcp://HOST:PORT",
                        help="class runs: grade one job per submission on this Dask cluster")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the secret inputs (default: a fresh random seed, recorded "
                        "in results.json)")
    parser.add_argument("--retrain", action="store_true",
                        help="train the model by running CNN.ipynb in the sandbox for every "
                        "submission, with or without a model file, whatever the spec's "
                        "missing_model says")
    parser.add_argument("--items", default=None,
                        help="comma-separated glob patterns of item ids to grade, e.g. "
                        "'conv_layers.*'")
    parser.add_argument("--visible-only", action="store_true",
                        help="grade only the items visible to students before the deadline")
    parser.add_argument("--spec", default=None, help="grading spec (default: the kit's)")
    parser.add_argument("--cifar-dir", default=None,
                        help="CIFAR-10 folder (default: $CIFAR10_DIR or the kit's datasets/)")
    parser.add_argument("--heldout-file", default=None, metavar="FILE.npz",
                        help="the course's own held-out images for the accuracy item (default: "
                        "the spec's heldout_file, else the public test batch, transformed)")
    parser.add_argument("--training-env", action="append", default=[], metavar="NAME=VALUE",
                        help="environment variable for the retraining run (repeatable), e.g. "
                        "CNN_HOMEWORK_QUICK=1 in CI")
    parser.add_argument("--published", action="store_true",
                        help="grades are published: the feedback no longer labels items "
                        "'hidden until grades are published'")
    parser.add_argument("--overrides", default=None, metavar="CSV",
                        help="the staff's score overrides (submission or student, item, points "
                        "or delta, comment, grader), applied after grading (default: the "
                        "spec's [overrides] file)")
    parser.add_argument("--sandbox", choices=("bwrap", "unshare", "rlimits"), default=None,
                        help="isolation level (default: the strongest available)")
    parser.add_argument("--from", dest="lms_from", choices=("canvas", "gradescope"),
                        default=None,
                        help="read the paths as Canvas's 'Download Submissions' archive or "
                        "Gradescope's 'Export Submissions' archive (.zip or its unpacked folder; "
                        "default: recognised by their names)")


def items_problem(options):
    """Why --items selects nothing it should (None when every pattern matches an item): a
    pattern matching no item is a typo, never a run that grades 0 of 0."""
    from autograder.grade import adapter
    from autograder.spec import SPEC_PATH, item_patterns, unmatched_patterns
    if not options.items:
        return None
    spec = adapter.load_spec(str(options.spec_path or SPEC_PATH))
    patterns = item_patterns(options.items)
    unmatched = unmatched_patterns(spec, options.items)
    if not patterns or unmatched:
        unmatched = unmatched or [options.items]
        return "--items pattern%s %s match%s no item; the items are:\n%s" % (
            "s" * (len(unmatched) > 1), ", ".join(repr(p) for p in unmatched),
            "es" * (len(unmatched) == 1), "\n".join("  " + item.id for item in spec.items))
    return None


def data_problem(options, on_this_machine=True):
    """Why the selected items cannot be graded for want of CIFAR-10 (None when they can),
    found before anything is graded: the loader's whole message, folders searched and fix.
    A --cifar-dir or $CIFAR10_DIR that is not a usable copy is a problem, never passed over for
    the default folder. On a Dask cluster the data lives on the workers, so only --cifar-dir
    is checked there."""
    from cs231n.data_utils import CIFAR10NotFoundError
    from autograder.grade.data import grading_data_dir
    if options.cifar_dir and on_this_machine:
        try:
            grading_data_dir(options.cifar_dir)
        except CIFAR10NotFoundError as error:
            return str(error)
    from autograder.grade import adapter
    from autograder.spec import SPEC_PATH, select_items
    spec = adapter.load_spec(str(options.spec_path or SPEC_PATH))
    needs_data = [item.id for item in kinds.saved_model_items(select_items(spec, options.items))
                  if not options.visible_only or item.visibility == "visible"]
    if not needs_data:
        return None
    problem = heldout_problem(options, spec)
    if problem or not on_this_machine:
        return problem
    try:
        grading_data_dir(options.cifar_dir)
    except CIFAR10NotFoundError as error:
        return "%s needs CIFAR-10:\n%s" % (
            ", ".join(needs_data), error)
    return None


def heldout_problem(options, spec):
    """What is wrong with the held-out file the accuracy items are to use (None when nothing
    is, or they use the public test batch). Checked on this machine even for a Dask run: the
    file is sent from here to the workers."""
    from autograder.grade import heldout
    from autograder.spec import SPEC_PATH, select_items
    spec_path = str(options.spec_path or SPEC_PATH)
    for item in select_items(spec, options.items):
        path = heldout.heldout_path(item, spec_path, options.heldout_file) \
            if kinds.declares(item.kind, "grades_saved_model") else None
        if path:
            try:
                heldout.load_heldout_file(path)
            except heldout.HeldoutFileError as error:
                return "%s: %s" % (item.id, error)
    return None


def environment_warnings(options):
    """Lines saying where this grader's Python or numpy differs from the spec's [environment]
    (on a Dask cluster each worker records its own in results.json instead)."""
    from autograder import environment
    from autograder.grade import adapter
    from autograder.spec import SPEC_PATH
    spec = adapter.load_spec(str(options.spec_path or SPEC_PATH))
    return environment.grader_warnings(spec.environment, environment.running_versions())


def run(args):
    forget_working_directory()
    from autograder.batch import discover
    from autograder.grade.pipeline import GradeOptions, grade
    for path in args.submission:
        if not os.path.lexists(path):
            print("autograder grade: %s does not exist" % path, file=sys.stderr)
            return USAGE_ERROR
    if args.jobs is not None and args.jobs < 1:
        print("autograder grade: --jobs wants a positive number", file=sys.stderr)
        return USAGE_ERROR
    if args.spec and not os.path.isfile(args.spec):
        print("autograder grade: spec %s does not exist" % args.spec, file=sys.stderr)
        return USAGE_ERROR
    training_env = {}
    for pair in args.training_env:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            print("autograder grade: --training-env wants NAME=VALUE, got %r" % pair,
                  file=sys.stderr)
            return USAGE_ERROR
        training_env[name] = value
    options = GradeOptions(seed=args.seed, retrain=args.retrain, items=args.items,
                           visible_only=args.visible_only, spec_path=args.spec,
                           cifar_dir=args.cifar_dir, heldout_file=args.heldout_file,
                           level=args.sandbox, training_env=training_env,
                           published=args.published, overrides=args.overrides)
    problem = items_problem(options) or data_problem(options,
                                                     on_this_machine=not args.dask_scheduler)
    if problem:
        print("autograder grade: %s" % problem, file=sys.stderr)
        return USAGE_ERROR
    if args.dask_scheduler:
        from autograder.batch.dask_cluster import ClusterProblem, check_cluster
        try:
            check_cluster(args.dask_scheduler, options)
        except ClusterProblem as error:
            print("autograder grade: %s" % error, file=sys.stderr)
            return USAGE_ERROR
    if not args.dask_scheduler:
        from autograder.grade.level_warning import weak_level_warning
        warning = weak_level_warning(options.level)
        if warning:
            print("autograder grade: %s" % warning, file=sys.stderr)
        for warning in environment_warnings(options):
            print("autograder grade: %s" % warning, file=sys.stderr)
    if args.dask_scheduler or args.lms_from or not discover.single_submission(args.submission):
        return _run_class(args, options)
    from autograder.policy import overrides
    from autograder.spec import SPEC_PATH
    sid = discover.submission_id(args.submission[0])
    try:   # its items checked before grading; the class's other submissions are not known here
        found = overrides.class_overrides(str(options.spec_path or SPEC_PATH),
                                          options.overrides, [sid], any_submission=True)
    except overrides.OverrideError as error:
        print("autograder grade: %s" % error, file=sys.stderr)
        return USAGE_ERROR
    requests = overrides.requests_for(found, sid)
    result = grade(args.submission[0], args.out, options,
                   records={"overrides": list(requests)})
    print(feedback.summary(result))
    print("reports: %s" % store.path_in(args.out))
    if result.grader_error:
        print("grader error (see results.json extra_data.grader_error):\n"
              + result.grader_error.strip().splitlines()[-1], file=sys.stderr)
        return GRADER_ERROR
    return 0


def _run_class(args, options):
    from autograder.batch.run import run_class
    from autograder.batch.state import StateError
    try:
        _, graded = run_class(args.submission, args.out, options, jobs=args.jobs,
                              force=args.force, scheduler=args.dask_scheduler,
                              lms_from=args.lms_from)
    except StateError as error:
        print("autograder grade: %s" % error, file=sys.stderr)
        return USAGE_ERROR
    errors = [done.id for done in graded if done.grader_error]
    if errors:
        print("grader errors on: %s (see their results.json extra_data.grader_error)"
              % ", ".join(errors), file=sys.stderr)
        return GRADER_ERROR
    return 0
