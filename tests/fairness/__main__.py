"""python -m tests.fairness: build the fairness suite, grade it in one class run, print the figures.

    python -m tests.fairness [--seed N] [--jobs 2] [--workdir DIR] [--status FILE]
                             [--grader-checkout DIR]

prints `fairness: C/Nc correct at full credit, B/Nb bugs caught, F false deductions (P points)`,
the distribution of the bugs' charges (points lost / points of the items they touch) and a
table of them, and a table of the misgraded variants (a bug charged beyond its labelled
groups is one); exit status 0 when every variant is graded as its label says, 1 otherwise,
2 when the class run itself failed.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

from tests.fairness import run


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.fairness", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=run.DEFAULT_SEED,
                        help="seed of the class run's inputs (default %(default)s)")
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded at once")
    parser.add_argument("--workdir", default=None,
                        help="build and grade here (kept); default: a temporary folder")
    parser.add_argument("--status", default=None,
                        help="also write the misgraded table to this file (overwritten)")
    parser.add_argument("--grader-checkout", default=None,
                        help="grade with the autograder of this checkout of the kit (e.g. an "
                        "older commit) instead of this one's")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="fairness-") as tmp:
        root = Path(args.workdir or tmp)
        classroom, grades = root / "class", root / "grades"
        if classroom.exists():
            sys.exit("%s exists: give an empty --workdir" % classroom)
        run.build_class(classroom)
        start = time.monotonic()
        proc = run.grade_class(classroom, grades, seed=args.seed, jobs=args.jobs,
                               grader_checkout=args.grader_checkout)
        seconds = time.monotonic() - start
        if proc.returncode not in (0, 3):
            print(proc.stdout[-2000:], proc.stderr[-4000:], sep="\n", file=sys.stderr)
            return 2
        outcomes = run.read_outcomes(grades)
        report = "%s\n(class run: %d submissions, seed %d, %.0f s)" % (
            run.report(outcomes), len(outcomes), args.seed, seconds)
        print(report)
        if args.status:
            Path(args.status).write_text(report + "\n")
        return 0 if all(o.fair for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
