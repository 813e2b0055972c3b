"""The judging steps every kind shares (errors, output comparison, hints)."""
import numpy as np

from autograder.checks import diagnosis
from autograder.checks.compare import compare_output, dtype_note, knob, tolerances
from autograder.checks.observation import describe_error, error_of, read_json
from autograder.checks.outcome import CheckOutcome, Status


def errors(item, student, reference, case=None, kind_hints=None):
    """A CheckOutcome when either side failed to run; None when both observed. The student's
    crash gets the generic crash hints (diagnosis.crash_hints) after the kind's own:
    kind_hints(item, case, error_info) -> [hint] (Kind.error_hints)."""
    ref_error = error_of(reference) if reference is not None else None
    if ref_error is not None:
        return CheckOutcome(0.0, Status.ERROR, "grader problem: the reference failed on this case ("
                            "%s). Please report it." % describe_error(ref_error))
    info = error_of(student)
    if info is not None:
        notes, _ = diagnosis.debug_printing(student, knob(item, "output_limit_kb"))
        hints = list(kind_hints(item, case, info)) if kind_hints is not None else []
        hints += diagnosis.crash_hints(info, str(item.extras.get("grader_numpy", "")))
        return CheckOutcome(0.0, Status.ERROR, describe_error(info), hints=hints, notes=notes)
    return None


def compare_keys(item, student, reference, keys, scale=0.0):
    """Mismatches of the student's outputs `keys` against the reference's (scale: see compare)."""
    mismatches = []
    for key in keys:
        if key not in reference:
            continue
        expected = np.asarray(reference[key])
        actual = student.get(key)
        tolerance, floor = tolerances(item, expected, actual)
        mismatch = compare_output(key, actual, expected, tolerance, floor, scale=scale)
        if mismatch is not None:
            mismatches.append(mismatch)
    return mismatches


def dtype_notes(student, reference, keys):
    """Notes for outputs returned in another float dtype than the reference's (never a deduction)."""
    notes = []
    for key in keys:
        if key in reference:
            note = dtype_note(key, student.get(key), reference[key])
            if note is not None:
                notes.append(note)
    return notes


def conclude(item, case, student, reference, keys, mismatches, explanations=(), hints=(), data=None):
    """
    The CheckOutcome of one case from its mismatches: the generic hints (NaN,
    shape, return type, printing) and the notes (dtype, writes into inputs) are
    added here. `data` carries evidence for the cross-case rules (outcome.data).
    """
    hints = list(hints)
    hints += diagnosis.wrong_return_type(student, keys)
    hints += diagnosis.mismatch_hints(mismatches)
    writes = diagnosis.writes_into_inputs(student)
    notes, too_much_output = diagnosis.debug_printing(student, knob(item, "output_limit_kb"))
    notes = dtype_notes(student, reference, keys) + notes
    lines = [m.message for m in mismatches] + list(explanations)
    # A write into an argument with every result right is a note (the spec's
    # side_effect_charge may price it, once per item); a write that changes what a later
    # call computes shows in that call's values, which are charged there.
    notes = list(notes)
    if writes:
        notes = ["Side effect: " + w for w in writes] + notes
        data = dict(data or {}, side_effect=True)
    if too_much_output:
        lines.append("your code printed more than the grader's output cap")
    # rounding-sized errors hint at precision only when no specific hint explains them
    data = dict({} if hints else diagnosis.precision_evidence(mismatches), **(data or {}))
    if not lines:
        return CheckOutcome(1.0, Status.PASSED, "", notes=notes, data=data)
    return CheckOutcome(0.0, Status.FAILED, "\n".join(lines), hints=hints, notes=notes, data=data)
