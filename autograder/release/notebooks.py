"""Student notebooks made by nbgrader itself (`nbgrader generate_assignment`).

The instructor notebooks are copied into a temporary nbgrader course
directory and nbgrader's own converter produces the student versions: solution
regions replaced by a stub, hidden tests removed, outputs cleared, checksums of
the locked and graded cells kept in the metadata. Nothing here edits notebook
JSON itself.

`course_config` is also the configuration an instructor uses for a real
nbgrader course (and the end-to-end test uses): it keeps each student's own
nndl/*.py when autograding (`Autograde.exclude_overwriting`), never copies a
submitted autograder/ or cs231n/ (the grading environment's trusted copies
are used), and gives the grading run time enough per cell.
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ASSIGNMENT_ID = "cnn"
NOTEBOOK_NAMES = ("CNN-Layers", "CNN-BatchNorm", "CNN")

# What a student's solution cell holds in the release (nbgrader's default is a
# bare NotImplementedError; this one says where the student works).
CODE_STUB = ("# YOUR CODE HERE\n"
             "raise NotImplementedError('this cell is yours to write (YOUR CODE HERE)')")

# Folders of a submission that nbgrader must not copy into the autograded
# copy: the kit's installed cs231n and autograder are the trusted ones.
IGNORED_SUBMISSION_FOLDERS = ("autograder", "cs231n", "build")

CELL_TIMEOUT_SECONDS = 600


class GenerateAssignmentError(RuntimeError):
    """nbgrader generate_assignment failed; the message holds its log."""


def course_config(student_files=(), assignment_id=ASSIGNMENT_ID, timeout=CELL_TIMEOUT_SECONDS):
    """Text of an nbgrader_config.py for the homework.

    student_files: paths relative to the assignment folder (e.g.
    "nndl/conv_layers.py") that autograde must keep from the submission.
    """
    lines = [
        "# nbgrader configuration for the CNN homework (written by autograder.release).",
        "c = get_config()  # noqa: F821 (nbgrader provides get_config)",
        "c.ClearSolutions.code_stub = {'python': %r}" % CODE_STUB,
        "c.CourseDirectory.ignore = ['.ipynb_checkpoints', '*.pyc', '__pycache__', 'feedback',"
        " '*.so', %s]" % ", ".join(repr(f) for f in IGNORED_SUBMISSION_FOLDERS),
        "# Keep each student's own implementation: by default autograde would replace",
        "# these files with the copies in source/ (the stubs).",
        "c.Autograde.exclude_overwriting = {%r: %r}" % (assignment_id, sorted(student_files)),
        "c.Execute.timeout = %d" % timeout,
    ]
    return "\n".join(lines) + "\n"


def nbgrader_env(config_dir):
    """Environment for an nbgrader subprocess that reads no user configuration."""
    env = dict(os.environ)
    env["JUPYTER_CONFIG_DIR"] = str(config_dir)
    env.pop("JUPYTER_CONFIG_PATH", None)
    return env


def run_nbgrader(course_root, *args, env=None, check=True):
    """Run `python -m nbgrader ARGS` in course_root; returns CompletedProcess."""
    course_root = Path(course_root)
    command = [sys.executable, "-m", "nbgrader", *args]
    result = subprocess.run(command, cwd=course_root, env=env or nbgrader_env(course_root / ".jupyter"),
                            capture_output=True, text=True)
    if check and result.returncode != 0:
        raise GenerateAssignmentError("%s failed (exit %d):\n%s%s" % (
            " ".join(args), result.returncode, result.stdout, result.stderr))
    return result


def make_course(course_root, notebooks, extra_files=None, student_files=(),
                assignment_id=ASSIGNMENT_ID):
    """Lay out an nbgrader course: config and source/<assignment_id>/.

    notebooks: paths of instructor notebooks; extra_files: {relative path:
    source path} copied beside them (e.g. the nndl stubs).
    """
    course_root = Path(course_root)
    (course_root / ".jupyter").mkdir(parents=True, exist_ok=True)
    (course_root / "nbgrader_config.py").write_text(course_config(student_files, assignment_id))
    source = course_root / "source" / assignment_id
    source.mkdir(parents=True, exist_ok=True)
    for notebook in notebooks:
        shutil.copyfile(notebook, source / Path(notebook).name)
    for relpath, src in sorted((extra_files or {}).items()):
        target = source / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    return source


def generate_assignment(course_root, assignment_id=ASSIGNMENT_ID):
    """Run nbgrader generate_assignment; returns the release folder it wrote."""
    run_nbgrader(course_root, "generate_assignment", assignment_id, "--force",
                 "--CourseDirectory.root=%s" % course_root)
    return Path(course_root) / "release" / assignment_id


def generate_student_notebooks(assignment_dir, dest_dir, names=NOTEBOOK_NAMES):
    """Write the student version of each instructor notebook into dest_dir.

    Returns the written paths in the order of names.
    """
    assignment_dir, dest_dir = Path(assignment_dir), Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cnn-course-") as course:
        make_course(course, [assignment_dir / (name + ".ipynb") for name in names])
        released = generate_assignment(course)
        written = []
        for name in names:
            target = dest_dir / (name + ".ipynb")
            shutil.copyfile(released / (name + ".ipynb"), target)
            written.append(target)
    return written
