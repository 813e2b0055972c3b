"""Every renderer of results: feedback.md/.html and the summary of one submission, and of a
class gradebook.csv, summary.md, changes.csv and report.html (read back through results.store).
"""
import glob
import os

from autograder.policy import overrides
from autograder.files import atomic
from autograder.report import feedback, pictures
from autograder.results import store
from autograder.results.model import GradeResult, ItemResult  # noqa: F401

FEEDBACK_MD = "feedback.md"
FEEDBACK_HTML = "feedback.html"


def write_reports(result, out_dir, published=False):
    """Write the reports atomically (results.json last: its presence means 'done'). Pictures
    of an earlier grading that this one does not have are removed (the folder is the
    grader's; a link there is removed, never followed). The staff's overrides the result
    carries (result.overrides) are applied first, so every report shows the same scores.
    published: grades are published (`grade --published`): hidden items are shown."""
    os.makedirs(out_dir, exist_ok=True)
    overrides.apply(result)
    figures = pictures.figures_of(feedback.bounded(result))
    for figure in figures:
        atomic.write_bytes(os.path.join(out_dir, figure.name), figure.png)
    current = {figure.name for figure in figures}
    for path in glob.glob(os.path.join(glob.escape(out_dir), "feedback-*.png")):
        if os.path.basename(path) not in current:
            os.remove(path)
    atomic.write_text(os.path.join(out_dir, FEEDBACK_MD), feedback.markdown(result, figures, published))
    atomic.write_text(os.path.join(out_dir, FEEDBACK_HTML), feedback.html_page(result, figures, published))
    store.dump(out_dir, result, published=published)
