"""Shared helpers of the checks tests: the reference, stubs and edited variants of
it loaded in isolation, and grading them in-process against cached reference
observations."""
import functools
import zlib
import shutil
from pathlib import Path

import numpy as np

from autograder.checks import kinds, make_cases, observe_all, run_item_in_process
from autograder.checks.loading import load_nndl
from autograder.release.stubs import generate_stubs
from autograder.spec import load_spec

REPO = Path(__file__).resolve().parents[3]
SOLUTIONS_NNDL = REPO / "solutions" / "nndl"
SEED = 20260101


@functools.lru_cache(maxsize=None)
def reference():
    return load_nndl(SOLUTIONS_NNDL)


def spec():
    return load_spec()


def fast_items():
    """The items graded in-process by these tests: the kinds the self-check runs (timing and
    accuracy, seconds per item and a trained model, have their own tests)."""
    return [item for item in spec().items if kinds.kind(item.kind).compares_outputs]


@functools.lru_cache(maxsize=None)
def expected(item_id, seed=SEED):
    """(cases, reference observations) of an item on the test seed, computed once."""
    item = spec().item(item_id)
    cases = make_cases(item, np.random.default_rng([seed, zlib.crc32(item_id.encode())]))
    return cases, observe_all(item, cases, reference(), probes=False)


def grade(modules, items=None):
    """{item id: ItemResult} of the given nndl modules (a folder path or a loaded mapping),
    completed and charged as the grader does (report facts, each cause charged once)."""
    from autograder.checks.charges import charge_causes_once
    from autograder.grade.aggregate import from_checks
    if isinstance(modules, (str, Path)):
        modules = load_nndl(modules)
    items = fast_items() if items is None else items
    results = [from_checks(item, run_item_in_process(item, modules, expected=expected(item.id)))
               for item in items]
    return {result.item_id: result for result in charge_causes_once(results)}


def copy_reference(dest):
    dest = Path(dest)
    shutil.copytree(SOLUTIONS_NNDL, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def variant(tmp_path, edits, name="nndl"):
    """
    A copy of the reference with textual edits applied:
    edits = {"conv_layers.py": [(old, new), ...]}; each old must occur exactly once.
    """
    folder = copy_reference(Path(tmp_path) / name)
    for filename, replacements in edits.items():
        path = folder / filename
        text = path.read_text()
        for old, new in replacements:
            assert text.count(old) == 1, "edit target not unique in %s: %r" % (filename, old)
            text = text.replace(old, new)
        path.write_text(text)
    return folder


def stubs(tmp_path):
    folder = Path(tmp_path) / "stubs" / "nndl"
    generate_stubs(SOLUTIONS_NNDL, folder)
    return folder


def lost_points(results):
    return {item_id: r.max_score - r.score for item_id, r in results.items() if r.score < r.max_score}


def make_student_copy(dest, nndl_folder):
    """
    A student's working copy as the release lays it out: the student-safe
    autograder files (manifest), the visible-only spec, the expected outputs of
    the visible items, and the given nndl/ folder.
    """
    from autograder.checks.visible import write_visible_expected
    from autograder.release import manifest
    dest = Path(dest)
    for relpath in manifest.student_files():
        target = dest / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / relpath, target)
    manifest.write_visible_spec(dest / manifest.VISIBLE_SPEC)
    write_visible_expected(dest / manifest.VISIBLE_EXPECTED, reference_modules=reference())
    shutil.copytree(nndl_folder, dest / "nndl", ignore=shutil.ignore_patterns("__pycache__"))
    return dest
