"""Results of judging: one case (CheckOutcome) and one spec item (ItemResult)."""
from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    """The verdict of a case or an item; a str, so JSON and comparisons see "passed" etc."""
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"    # the student's code raised / could not run


STATUSES = tuple(Status)


@dataclass(frozen=True)
class CheckOutcome:
    """The verdict on one case. fraction in [0, 1]; hints are shown under the message."""
    fraction: float
    status: Status       # passed | failed | error (the student's code raised / could not run)
    message: str
    hints: list = field(default_factory=list)
    notes: list = field(default_factory=list)   # shown even when the case passes
    data: dict = field(default_factory=dict)    # numbers the cross-case rules read
    # {output key: compare.Difference} of wrong array outputs (grader side): the report's pictures
    differences: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ItemResult:
    """The verdict on one spec item, ready for results.json (Gradescope's test entry)."""
    id: str
    score: float
    max_score: float
    status: Status       # passed | failed | error
    output: str          # feedback text for the student
    visibility: str      # visible | hidden (as in the spec)
    hints: list = field(default_factory=list)
    outcomes: list = field(default_factory=list)  # CheckOutcome per case
