"""`python -m autograder.benchmark`: see autograder.benchmark.grading."""
import sys

from autograder.benchmark.grading import main

if __name__ == "__main__":
    sys.exit(main())
