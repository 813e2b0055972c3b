"""A submission in: which files of a folder or .zip are the homework (layout, locate),
and a safe staged copy of them (unpack: no links, bombs or oversized files).
"""
from autograder.submission.locate import Submission, locate  # noqa: F401
from autograder.submission.unpack import SubmissionError, stage  # noqa: F401
