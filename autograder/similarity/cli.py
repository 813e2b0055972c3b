"""`python -m autograder similarity GRADES_DIR [--spec grading.toml] [--jobs N]`."""
import os
import sys


def add_arguments(parser):
    parser.add_argument("grades_dir", help="the --out folder of a class run")
    parser.add_argument("--spec", default=None,
                        help="grading spec whose [similarity] table applies (default: the kit's)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="submissions read in parallel (default: the cores)")


def run(args):
    from autograder.batch.run import default_jobs
    from autograder.similarity.run import add_to_summary, recorded_sources, run_similarity
    from autograder.spec import SpecError, load_spec
    try:
        policy = load_spec(args.spec).similarity
        sources = recorded_sources(args.grades_dir)
    except (OSError, ValueError, SpecError) as error:
        print("autograder similarity: %s (run a class run into %s first)"
              % (error, args.grades_dir), file=sys.stderr)
        return 2
    result = run_similarity(args.grades_dir, sources, policy, jobs=args.jobs or default_jobs())
    add_to_summary(args.grades_dir, result.section)
    print(result.section)
    print("similarity: %s" % os.path.join(args.grades_dir, "similarity.html"))
    return 0
