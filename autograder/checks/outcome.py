"""Results of judging: one case (CheckOutcome) and one spec item (ItemResult, the class the
grade pipeline completes and the reports read)."""
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


@dataclass
class GroupResult:
    """The verdict on one case group of an item (autograder.spec.CaseGroup).

    - name, share (fraction of the item's points), points (share * item points)
    - earned: the points it earned (its share when all its cases pass, by the item's rule)
    - cases_passed, cases_total
    - status: passed | failed | error | not_charged (failed, but its cause is charged in
      another item: see checks/charges.py)
    - hint: the spec's hint for the group, shown when it fails
    - cause: the root cause it shares with groups of other items ('' for none)
    - because_of: "<kind>:nndl.<module>.<name>", the items whose bug explains every failing
      case of the group ('' when none does): a backward that agrees with the numerical
      gradient of a wrong forward fails because of the forward's items ("forward_value:..."),
      a training sequence driven by wrong gradients because of the gradient item's
    - note: why it was not charged, when it was not
    """
    name: str
    share: float
    points: float
    earned: float
    cases_passed: int
    cases_total: int
    status: str
    hint: str = ""
    cause: str = ""
    because_of: str = ""
    note: str = ""

    @property
    def lost(self) -> float:
        return max(self.points - self.earned, 0.0)

    def record(self) -> dict:
        """The JSON record in results.json's extra_data.groups."""
        return {"name": self.name, "weight": round(self.share, 6), "points": round(self.points, 4),
                "earned": round(self.earned, 4), "cases_passed": self.cases_passed,
                "cases_total": self.cases_total, "status": str(self.status), "cause": self.cause,
                "because_of": self.because_of, "hint": self.hint, "note": self.note}


def gradescope_visibility(item) -> str:
    """Gradescope's name for a spec item's visibility (hidden items: after_published)."""
    return "visible" if item.visibility == "visible" else "after_published"


@dataclass
class ItemResult:
    """
    The verdict on one spec item: what the checks' judge_all returns, what the grade pipeline
    completes (kind, seconds, the report facts of autograder.report.facts) and what the
    reports and results.json read.

    - item_id: spec id (names the nndl function), stored as extra_data.item
    - title: short human name shown in reports
    - score, max_score: points
    - passed: full marks (status == passed)
    - output: feedback text for the student (what failed, hints)
    - visibility: 'visible' or 'after_published' (Gradescope's names; gradescope_visibility)
    - kind: check kind, for the record
    - seconds: wall time spent on the item
    - section, function: the notebook section and the nndl function the item grades
    - scoring, cases_passed, cases_total: the spec's scoring rule and how many cases passed
      (cases_total 0: not a case-by-case item, or nothing ran)
    - differences: {output key: autograder.checks.compare.Difference} of the smallest
      failing case, for the pictures
    - accuracy: the accuracy item's numbers (validation, heldout, credited, margin,
      full_credit_at, zero_credit_at, and when the grader gives them per_class_val,
      class_names, heldout_evaluation)
    - status: passed | failed | error (the student's code raised / could not run); when not
      given, passed or failed as `passed` says
    - hints: the hints of the failing cases and the cross-case diagnosis
    - outcomes: CheckOutcome per case (empty when the item could not be checked)
    - groups: GroupResult per case group of the spec item, in spec order (empty when the
      item could not be checked or has no cases)
    """
    item_id: str
    title: str
    score: float
    max_score: float
    passed: bool
    output: str
    visibility: str = "visible"
    kind: str = ""
    seconds: float = 0.0
    section: str = ""
    function: str = ""
    scoring: str = "all_cases"
    cases_passed: int = 0
    cases_total: int = 0
    differences: dict = field(default_factory=dict)
    accuracy: dict = field(default_factory=dict)
    status: Status = None
    hints: list = field(default_factory=list)
    outcomes: list = field(default_factory=list)
    groups: list = field(default_factory=list)

    def __post_init__(self):
        if self.status is None:
            self.status = Status.PASSED if self.passed else Status.FAILED
        elif bool(self.passed) != (self.status == Status.PASSED):
            raise ValueError("item %s: passed=%r contradicts status %r"
                             % (self.item_id, self.passed, self.status))
