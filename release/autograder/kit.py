"""Where the kit lives: its root, the reference solutions, the provided cs231n.

One definition for every module (the grader, the release builder, the sandbox,
the checks that ship to students), found from this package's own location and
never from the current folder. Also `forget_working_directory`, which keeps a
submission folder that happens to be the current folder from providing modules.
"""
import os
import sys
from pathlib import Path

AUTOGRADER_DIR = Path(__file__).resolve().parent
KIT_ROOT = AUTOGRADER_DIR.parent
# The reference solutions: the kit's solutions/ unless AUTOGRADER_SOLUTIONS points elsewhere
# (an installed kit, e.g. on Gradescope, keeps them beside its spec).
SOLUTIONS_DIR = Path(os.environ.get("AUTOGRADER_SOLUTIONS") or KIT_ROOT / "solutions")
REFERENCE_NNDL = SOLUTIONS_DIR / "nndl"
ASSIGNMENT_DIR = KIT_ROOT / "assignment"


def forget_working_directory():
    """`python -m` puts the current folder first on sys.path: a submission folder there must
    never provide modules (e.g. its own cs231n) to the grader."""
    here = os.path.realpath(os.getcwd())
    if here != os.path.realpath(KIT_ROOT):
        sys.path[:] = [p for p in sys.path if p not in ("", ".") and
                       os.path.realpath(p) != here]
