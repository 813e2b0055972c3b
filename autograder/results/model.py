"""What grading one submission produced, independent of any output format."""
from dataclasses import dataclass, field

# One class for the item verdict, from the checks to the reports (defined with the checks,
# which ship to students; the reports only read it).
from autograder.checks.outcome import ItemResult  # noqa: F401


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
