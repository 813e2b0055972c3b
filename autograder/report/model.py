"""What grading one submission produced, independent of any output format."""
from dataclasses import dataclass, field


@dataclass
class ItemResult:
    """
    One graded spec item.
    - item_id: spec id (names the nndl function), stored as extra_data.item
    - title: short human name shown in reports
    - score, max_score: points
    - passed: full marks
    - output: feedback text for the student (what failed, hints)
    - visibility: 'visible' or 'after_published' (Gradescope's names)
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


@dataclass
class GradeResult:
    """
    - submission: name of what was graded (file or folder name)
    - items: ItemResult per graded item, in spec order
    - problems: submission-level messages (missing files, invalid notebooks)
    - notes: what was ignored while reading the submission
    - seed: the secret seed of the run (never shown to the student)
    - execution_time: seconds
    - sandbox: the protections that were active
    - grader_error: '' or a grader bug that stopped grading (the scores are then partial)
    - extra: anything else worth recording (timings, model source, ...)
    """
    submission: str
    items: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    seed: int = 0
    execution_time: float = 0.0
    sandbox: dict = field(default_factory=dict)
    grader_error: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def score(self):
        return round(sum(item.score for item in self.items), 4)

    @property
    def max_score(self):
        return round(sum(item.max_score for item in self.items), 4)
