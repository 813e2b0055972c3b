"""The entry point of the notebooks' graded test cells:

    from autograder.notebook import check
    check("conv_layers.conv_forward_naive.forward")

It runs the spec item in the notebook's kernel on the `nndl` the kernel
imports, prints one line when it passes or the same feedback the grader gives,
and raises AssertionError (so nbgrader gives the cell 0 points) when it fails.

Expected values: in the kit (this package beside solutions/nndl) they are
computed from the reference, loaded in isolation; in a student copy they come
from autograder/data/visible_expected.npz, written at release time. Hidden
items exist only in the kit.
"""
from pathlib import Path

from autograder.checks import run_item_in_process
from autograder.checks.loading import import_current_nndl, kit_reference
from autograder.checks.visible import load_visible_expected
from autograder.spec import load_spec

EXPECTED_PATH = Path(__file__).resolve().parent / "data" / "visible_expected.npz"


class HiddenItemError(AssertionError):
    """A hidden item was checked in a student copy."""


def _find_item(item_id, reference):
    spec = load_spec(visible_only=reference is None)
    try:
        return spec.item(item_id)
    except KeyError:
        if reference is None:
            raise HiddenItemError(
                "%s is a hidden item, graded after the deadline: it cannot be checked in your "
                "copy. Run `python -m autograder check` for the visible checks." % item_id) from None
        raise KeyError("no item %r in the grading spec" % item_id) from None


def run(item_id, nndl_modules=None):
    """The ItemResult of one item on the given nndl (default: the one this kernel imports)."""
    reference = kit_reference()
    item = _find_item(item_id, reference)
    modules = nndl_modules if nndl_modules is not None else import_current_nndl()
    if reference is not None:
        return run_item_in_process(item, modules, reference_modules=reference)
    if item.visibility != "visible":
        raise HiddenItemError("%s is a hidden item, graded after the deadline." % item_id)
    try:
        expected = load_visible_expected(EXPECTED_PATH, item_id)
    except (FileNotFoundError, KeyError):
        raise FileNotFoundError("no expected values for %s in %s: this copy of the autograder is "
                                "incomplete" % (item_id, EXPECTED_PATH)) from None
    return run_item_in_process(item, modules, expected=expected)


def check(item_id, nndl_modules=None):
    """
    Check one spec item in this kernel: print the result, raise AssertionError on failure.

    Returns the ItemResult when it passes.
    """
    result = run(item_id, nndl_modules)
    if result.status == "passed":
        print("%s: passed (%g/%g points)." % (item_id, result.score, result.max_score))
        for line in result.output.splitlines():
            if line.startswith("Note: "):
                print(line)
        return result
    feedback = "%s: %s (%g/%g points)\n%s" % (item_id, result.status, result.score,
                                               result.max_score, result.output)
    print(feedback)
    raise AssertionError(feedback)
