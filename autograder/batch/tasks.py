"""One submission to grade in a class run, and the reports of a grading that crashed."""
import os
from dataclasses import dataclass, replace

from autograder.grade.aggregate import failed_item
from autograder.report import write_reports
from autograder.results.model import GradeResult


@dataclass(frozen=True)
class GradeTask:
    """
    - id: the submission's id (its folder under GRADES_DIR)
    - source: the submission (folder or file)
    - out_dir: GRADES_DIR/<id>
    - seed: the class's seed
    - fingerprint: state.fingerprint(source), recorded so a resubmission is regraded
    """
    id: str
    source: str
    out_dir: str
    seed: int
    fingerprint: str
    late: dict = None        # autograder.policy.late.late_record (None: no late policy)
    lms: dict = None         # the LMS's record of the submission (autograder.lms), or None
    overrides: tuple = ()    # autograder.policy.overrides requests for this submission

    @property
    def name(self):
        return os.path.basename(os.path.normpath(self.source))

    def records(self, fingerprint=True):
        """The GradeResult records a class run knows of this submission ({field: value});
        without the fingerprint, the next run grades it again. The staff's overrides are
        applied by write_reports (autograder.policy.overrides)."""
        return {"batch": {"id": self.id, "fingerprint": self.fingerprint if fingerprint else None},
                "late": self.late, "lms": self.lms,
                "overrides": [dict(request) for request in self.overrides]}


@dataclass(frozen=True)
class Done:
    """What the class run hears back when a submission is finished (its reports are written)."""
    id: str
    score: float
    max_score: float
    seconds: float
    grader_error: bool


def done_from(task, result):
    return Done(task.id, result.score, result.max_score, result.execution_time,
                bool(result.grader_error))


def write_crash_reports(task, items, reason):
    """
    Reports for a submission whose grading process died (not the student's fault): every
    item at 0 with a message. No fingerprint is recorded, so the next run grades it again.
    """
    result = GradeResult(submission=task.name, seed=task.seed,
                         grader_error="grading stopped: %s" % reason)
    result.items = [failed_item(item, "grader problem (not your fault): grading of this "
                                "submission stopped (%s); the course staff has the details"
                                % reason) for item in items]
    result = replace(result, **dict(task.records(fingerprint=False), overrides=[]))
    write_reports(result, task.out_dir)
    return done_from(task, result)
