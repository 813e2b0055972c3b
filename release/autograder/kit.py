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

# The homework's facts every part of the kit shares.
# The nndl package's modules, in dependency order (each imports only those before it).
NNDL_MODULES = ("layers", "layer_utils", "conv_layers", "conv_layer_utils", "fc_net", "cnn", "optim")
# The notebooks, in the order students work through them.
NOTEBOOKS = ("CNN-Layers.ipynb", "CNN-BatchNorm.ipynb", "CNN.ipynb")


def forget_working_directory():
    """`python -m` puts the current folder first on sys.path: a submission folder there must
    never provide modules (e.g. its own cs231n) to the grader."""
    here = os.path.realpath(os.getcwd())
    if here != os.path.realpath(KIT_ROOT):
        sys.path[:] = [p for p in sys.path if p not in ("", ".") and
                       os.path.realpath(p) != here]
