"""Unpack and locate a submission: a folder or .zip with the notebooks, nndl/*.py and the model."""
from autograder.submission.locate import Submission, locate  # noqa: F401
from autograder.submission.unpack import SubmissionError, stage  # noqa: F401
