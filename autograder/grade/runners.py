"""Which grader-side runner runs an item: by its kind's name, the kinds that do not compare
outputs on cases (Kind.compares_outputs) have a runner of their own here; every other kind
uses the case runner (items.run_cases). A runner is run(ctx, item, start) -> ItemResult.

The kinds (autograder/checks/kinds) ship to students and name nothing of the grader's:
this table is the grader's half of a kind, and missing_runners() (tested) names a kind
registered without it.
"""
import time

from autograder.checks import kinds
from autograder.grade import run_accuracy, run_timing
from autograder.grade.items import GraderError, run_cases
from autograder.results.model import ItemResult

RUNNERS = {
    "timing": run_timing.run,
    "accuracy": run_accuracy.run,
}


def runner(kind_name):
    """The function that runs an item of this kind in the grader."""
    if kind_name in RUNNERS:
        return RUNNERS[kind_name]
    if kinds.kind(kind_name).compares_outputs:
        return run_cases
    raise GraderError("kind %s has no runner in the grader (autograder/grade/runners.py)"
                      % kind_name)


def missing_runners():
    """Problems of the table against the registry: each registered kind that neither compares
    outputs nor has a runner here, and each runner of a kind that is not registered."""
    problems = ["kind %s has no grader runner" % name for name in kinds.names()
                if name not in RUNNERS and not kinds.kind(name).compares_outputs]
    problems += ["runner of %s, which is not a registered kind" % name
                 for name in RUNNERS if name not in kinds.names()]
    return problems


def run_item(ctx, item) -> ItemResult:
    start = time.monotonic()
    result = runner(item.kind)(ctx, item, start)
    result.seconds = time.monotonic() - start
    return result
