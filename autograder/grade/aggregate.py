"""The grader's finishing touches on the checks' item verdict (autograder.checks.ItemResult,
the one class the reports read): the spec facts the reports show, and results for items
that could not be checked.

Scoring, feedback text and the cross-case hints come from autograder.checks.judge_all,
so the grader, the self-check and the notebook test cells word things identically.
"""
import dataclasses

from autograder.checks.outcome import ItemResult, gradescope_visibility
from autograder.report.facts import item_facts

__all__ = ["from_checks", "failed_item", "gradescope_visibility"]


def from_checks(item, verdict: ItemResult, preface: str = "") -> ItemResult:
    """The verdict with the report facts of its spec item (and a preface to its output)."""
    output = verdict.output
    if preface:
        output = preface + ("\n" + output if output else "")
    return dataclasses.replace(verdict, output=output, score=float(verdict.score),
                               kind=item.kind, **item_facts(item, verdict))


def failed_item(item, message: str, seconds: float = 0.0) -> ItemResult:
    """An item that could not be checked at all (nothing to grade, or a grader problem)."""
    return ItemResult(item_id=item.id, title=item.id, score=0.0, max_score=float(item.points),
                      passed=False, output=message, visibility=gradescope_visibility(item),
                      kind=item.kind, seconds=seconds, **item_facts(item))
