"""What grading one submission produced, independent of any output format: the scores, and
the records a class run, the policy and the LMS keep beside them (typed fields, not a
grab-bag). How it is shown (e.g. whether grades are published) is the renderers' argument."""
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
    - environment: the versions that graded (autograder.environment.record); None: not graded
    - unreadable: '' or why the staff should look at the upload itself (a damaged zip)
    - batch: a class run's record {"id", "fingerprint"} (autograder.batch.tasks); None: none
    - late: the late record (autograder.policy.late.late_record); None: no late policy
    - lms: the LMS's record of whose submission it is (autograder.lms); None: not from one
    - overrides: the staff's requests for it; after autograder.policy.overrides.apply, the
      applied records (each with the grader's own score)
    - extra: what the items measured beside their scores (accuracy, retrained_seconds,
      worker_restarts, leaderboard)

    results.json's extra_data holds the records in this order after the measured extras
    (autograder.results.schema); autograder.results.records reads them back.
    """
    submission: str
    items: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    seed: int = 0
    execution_time: float = 0.0
    sandbox: dict = field(default_factory=dict)
    grader_error: str = ""
    environment: dict = None
    unreadable: str = ""
    batch: dict = None
    late: dict = None
    lms: dict = None
    overrides: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    @property
    def score(self):
        return round(sum(item.score for item in self.items), 4)

    @property
    def max_score(self):
        return round(sum(item.max_score for item in self.items), 4)
