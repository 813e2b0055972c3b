"""What a submission holds: the names the grader looks for, and the size caps.

Everything else in a submission is ignored. A shipped cs231n/ is ignored too:
the trusted cs231n is always the kit's own.
"""

from autograder.kit import NNDL_MODULES, NOTEBOOKS, REFERENCE_NNDL
from autograder.spec import default_model_file

TRAINING_NOTEBOOK = "CNN.ipynb"
# The accuracy kind declares the model file's name (its model_file default).
MODEL_FILE = default_model_file()
NNDL_DIR = "nndl"

# The nndl modules a complete submission holds: the reference package's own files.
_REFERENCE_NNDL = REFERENCE_NNDL
EXPECTED_MODULES = tuple(sorted(p.stem for p in _REFERENCE_NNDL.glob("*.py"))) or tuple(
    sorted(("__init__",) + NNDL_MODULES))

# Caps (bytes) on what is copied out of a submission; a bigger file is refused, not truncated.
MAX_SOURCE_BYTES = 2 * 1024 * 1024
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
MAX_MODEL_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
# Caps on a zip as a whole, checked before anything is extracted.
MAX_ZIP_MEMBERS = 5000
MAX_COMPRESSION_RATIO = 200      # uncompressed / compressed, for members over 1 MB
RATIO_CHECK_FROM_BYTES = 1024 * 1024
# How deep the submission root may sit: the archive/folder itself or one top folder.
IGNORED_TOP_NAMES = ("__MACOSX",)


def wanted(relative):
    """
    The cap for a path (relative to the submission root, '/'-separated) the grader
    copies, or None if the path is ignored.
    """
    parts = relative.split("/")
    if len(parts) == 1 and parts[0] in NOTEBOOKS:
        return MAX_NOTEBOOK_BYTES
    if len(parts) == 1 and parts[0] == MODEL_FILE:
        return MAX_MODEL_BYTES
    if len(parts) == 2 and parts[0] == NNDL_DIR and _is_module_name(parts[1]):
        return MAX_SOURCE_BYTES
    return None


def flat_upload(relatives):
    """
    {relative path: staged path} for nndl modules uploaded without their nndl/ folder (as
    Gradescope's drag and drop of single files produces): 'cnn.py' -> 'nndl/cnn.py'. Empty
    when the submission has an nndl/ folder (its files win) or no such module at its top.
    """
    relatives = [r for r in relatives if r]
    if any(r.split("/")[0] == NNDL_DIR for r in relatives):
        return {}
    return {r: NNDL_DIR + "/" + r for r in relatives
            if "/" not in r and r.endswith(".py") and r[:-3] in EXPECTED_MODULES}


def _is_module_name(name):
    return name.endswith(".py") and name[:-3].isidentifier()
