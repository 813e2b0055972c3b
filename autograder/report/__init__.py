"""Reports of one graded submission: results.json (Gradescope), feedback.md/.html, summary."""
import os

from autograder.report import atomic, feedback, gradescope
from autograder.report.model import GradeResult, ItemResult  # noqa: F401

RESULTS_FILE = "results.json"
FEEDBACK_MD = "feedback.md"
FEEDBACK_HTML = "feedback.html"


def write_reports(result, out_dir):
    """Write the three files atomically (results.json last: its presence means 'done')."""
    os.makedirs(out_dir, exist_ok=True)
    atomic.write_text(os.path.join(out_dir, FEEDBACK_MD), feedback.markdown(result))
    atomic.write_text(os.path.join(out_dir, FEEDBACK_HTML), feedback.html_page(result))
    atomic.write_text(os.path.join(out_dir, RESULTS_FILE), gradescope.dumps(result))
