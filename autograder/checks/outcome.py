"""Results of judging: one case (CheckOutcome) and one spec item (ItemResult)."""
from dataclasses import dataclass, field

STATUSES = ("passed", "failed", "error")


@dataclass(frozen=True)
class CheckOutcome:
    """The verdict on one case. fraction in [0, 1]; hints are shown under the message."""
    fraction: float
    status: str          # passed | failed | error (the student's code raised / could not run)
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
    status: str          # passed | failed | error
    output: str          # feedback text for the student
    visibility: str      # visible | hidden (as in the spec)
    hints: list = field(default_factory=list)
    outcomes: list = field(default_factory=list)  # CheckOutcome per case
