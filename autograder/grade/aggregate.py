"""From the checks' item verdict (autograder.checks.ItemResult) to the report's ItemResult.

Scoring, feedback text and the cross-case hints come from autograder.checks.judge_all,
so the grader, the self-check and the notebook test cells word things identically.
"""
from autograder.checks.outcome import Status
from autograder.report.facts import item_facts
from autograder.report.model import ItemResult


def gradescope_visibility(item):
    return "visible" if item.visibility == "visible" else "after_published"


def from_checks(item, verdict, preface: str = "") -> ItemResult:
    output = verdict.output
    if preface:
        output = preface + ("\n" + output if output else "")
    return ItemResult(item_id=item.id, title=item.id, score=float(verdict.score),
                      max_score=float(item.points), passed=verdict.status == Status.PASSED,
                      output=output, visibility=gradescope_visibility(item), kind=item.kind,
                      **item_facts(item, verdict))


def failed_item(item, message: str, seconds: float = 0.0) -> ItemResult:
    """An item that could not be checked at all (nothing to grade, or a grader problem)."""
    return ItemResult(item_id=item.id, title=item.id, score=0.0, max_score=float(item.points),
                      passed=False, output=message, visibility=gradescope_visibility(item),
                      kind=item.kind, seconds=seconds, **item_facts(item))
