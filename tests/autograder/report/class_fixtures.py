"""Graded classes written with the real report writer, for the class report and exports."""
from autograder.report import write_reports
from autograder.results.model import GradeResult, ItemResult

ITEMS = (("conv_layers.conv_forward_naive.forward", 10), ("conv_layers.max_pool_backward_naive."
                                                          "gradient", 20))
PAD_HINT = "An output has the wrong shape: check the padding ($H' = 1 + (H + 2p - HH) / s$)."
ROUTE_HINT = "The gradient goes to every element of the window, not only to its maximum."


def graded(grades_dir, sid, scores, hints=(), late=None, grader_error="", groups=(),
           overrides=()):
    """Write GRADES_DIR/sid/ reports: scores per ITEMS, hints per item index, case groups
    (GroupResult) per item index, the staff's override requests (policy/overrides.py)."""
    result = GradeResult(submission=sid, seed=1, grader_error=grader_error)
    for n, ((item, points), score) in enumerate(zip(ITEMS, scores)):
        lines = ["Passed: all 3 cases." if score == points else "1 of 3 cases passed."]
        lines += ["Hint: " + h for i, h in hints if i == n]
        result.items.append(ItemResult(item, item, score, points, score == points,
                                       "\n".join(lines),
                                       groups=[g for i, g in groups if i == n]))
    result.batch = {"id": sid, "fingerprint": "x"}
    if late is not None:
        result.late = late
    if overrides:
        result.overrides = [dict(o) for o in overrides]
    write_reports(result, str(grades_dir / sid))
    return result
