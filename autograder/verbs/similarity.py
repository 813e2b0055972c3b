"""`python -m autograder similarity GRADES_DIR [--spec grading.toml] [--jobs N] [--against DIR]`."""
import os
import sys


def add_arguments(parser):
    parser.add_argument("grades_dir", help="the --out folder of a class run")
    parser.add_argument("--spec", default=None,
                        help="grading spec whose [similarity] table applies (default: the kit's)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="submissions read in parallel (default: the cores)")
    parser.add_argument("--against", default=None, metavar="DIR",
                        help="prior work: a folder of earlier submissions or public solutions "
                        "(folders or .zip files), each compared with every student "
                        "(default: the spec's [similarity] against)")


def run(args):
    from autograder.batch.run import default_jobs
    from autograder.batch.discover import prior_sources
    from autograder.similarity.run import add_to_summary, against_folder, \
        recorded_sources, run_similarity
    from autograder.spec import SpecError, load_spec
    from autograder.submission import SubmissionError
    try:
        policy = load_spec(args.spec).similarity
        sources = recorded_sources(args.grades_dir)
    except (OSError, ValueError, SpecError) as error:
        print("autograder similarity: %s (run a class run into %s first)"
              % (error, args.grades_dir), file=sys.stderr)
        return 2
    folder = against_folder(policy, args.spec, args.against)
    try:
        prior = prior_sources(folder) if folder else {}
    except (OSError, SubmissionError) as error:
        print("autograder similarity: %s" % error, file=sys.stderr)
        return 2
    result = run_similarity(args.grades_dir, sources, policy, jobs=args.jobs or default_jobs(),
                            prior=prior)
    add_to_summary(args.grades_dir, result.section)
    print(result.section)
    print("similarity: %s" % os.path.join(args.grades_dir, "similarity.html"))
    return 0
