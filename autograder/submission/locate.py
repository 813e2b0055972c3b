"""A staged submission described for the grader: which parts are there, which are missing."""
import os
from dataclasses import dataclass, field

from autograder.submission import layout
from autograder.submission.notebooks import notebook_problems
from autograder.submission.unpack import SubmissionError, stage


@dataclass
class Submission:
    """
    The grader's view of one submission, staged in a private folder.

    - root: staged folder (holds only the wanted files)
    - modules: nndl module names present (without .py)
    - missing_modules: EXPECTED_MODULES not present
    - notebooks: {notebook name: '' if valid else the problem}, for the ones present
    - missing_notebooks: names of absent notebooks
    - model_path: staged model file, or None
    - notes: what was ignored or refused while staging, and other remarks
    - error: '' or why the submission could not be read at all
    - damaged: wanted files of a zip that could not be read ('path (why)'): a corrupt zip
    """
    root: str
    modules: list = field(default_factory=list)
    missing_modules: list = field(default_factory=list)
    notebooks: dict = field(default_factory=dict)
    missing_notebooks: list = field(default_factory=list)
    model_path: str = None
    notes: list = field(default_factory=list)
    error: str = ""
    damaged: list = field(default_factory=list)
    unchecked_notebooks: list = field(default_factory=list)   # staged, not yet parsed

    def check_notebooks(self, notebook_limit_mb=None):
        """Parse the staged notebooks not yet checked (in a limited child process: the files
        are the student's) and record each one's problem in `notebooks`."""
        names, self.unchecked_notebooks = self.unchecked_notebooks, []
        problems = notebook_problems([os.path.join(self.root, name) for name in names],
                                     notebook_limit_mb)
        for name in names:
            self.notebooks[name] = problems[os.path.join(self.root, name)]

    def unreadable(self):
        """'' or why the course staff should look at the file itself: it could not be read at
        all, or some of its wanted files could not be extracted (its zeros are not the
        student's real ones)."""
        if self.error:
            return self.error
        if self.damaged:
            return "could not extract from the submitted zip: %s" % ", ".join(self.damaged)
        return ""

    @property
    def nndl_dir(self):
        return os.path.join(self.root, layout.NNDL_DIR)

    def problems(self):
        """One line per missing or broken part, in a stable order."""
        lines = []
        if self.error:
            lines.append(self.error)
        for name in self.missing_notebooks:
            lines.append("notebook %s is missing" % name)
        for name, problem in sorted(self.notebooks.items()):
            if problem:
                lines.append("notebook %s %s" % (name, problem))
        for name in self.missing_modules:
            lines.append("nndl/%s.py is missing" % name)
        if self.model_path is None:
            lines.append("%s is missing" % layout.MODEL_FILE)
        return lines


def locate(source, dest, notebook_limit_mb=None, check_notebooks=True):
    """
    Stage `source` (folder or .zip) into `dest` and describe what it holds.
    notebook_limit_mb: bigger notebooks are refused unread (None: the kit spec's setting).
    check_notebooks: False leaves the notebooks in unchecked_notebooks, for the caller's
    Submission.check_notebooks (the grader runs it while the student's worker starts).
    """
    try:
        staged = stage(source, dest)
    except SubmissionError as error:
        return Submission(root=os.fspath(dest), error="cannot read the submission: %s" % error,
                          missing_notebooks=list(layout.NOTEBOOKS),
                          missing_modules=list(layout.EXPECTED_MODULES))
    copied = set(staged.copied)
    submission = Submission(root=staged.root, notes=list(staged.notes),
                            damaged=list(staged.damaged))
    notebooks = [name for name in layout.NOTEBOOKS if name in copied]
    submission.missing_notebooks = [name for name in layout.NOTEBOOKS if name not in copied]
    submission.unchecked_notebooks = notebooks
    if check_notebooks:
        submission.check_notebooks(notebook_limit_mb)
    present = sorted(r.split("/")[1][:-3] for r in copied if r.startswith(layout.NNDL_DIR + "/"))
    submission.modules = present
    submission.missing_modules = [m for m in layout.EXPECTED_MODULES
                                  if m not in present and m != "__init__"]
    if present and "__init__" not in present:
        # An empty __init__ makes nndl a regular package, as the release ships it.
        open(os.path.join(submission.nndl_dir, "__init__.py"), "w").close()
    if layout.MODEL_FILE in copied:
        submission.model_path = os.path.join(staged.root, layout.MODEL_FILE)
    return submission
