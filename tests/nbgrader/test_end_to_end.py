"""nbgrader end to end on a real course directory.

generate_assignment from the instructor notebooks (with the nndl stubs beside
them, as a course would release them); three students submit (the reference,
the bare stubs, the reference with a planted bug in nndl/conv_layers.py);
`nbgrader autograde` runs every notebook in a real kernel, keeping each
student's own nndl/*.py (Autograde.exclude_overwriting); the gradebook holds
the expected scores; generate_feedback writes HTML.
"""
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.release import notebooks as release_notebooks
from autograder.release.stubs import generate_stubs
from autograder.spec import load_spec

REPO_ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO_ROOT / "solutions"
ASSIGNMENT = "cnn"
NAMES = release_notebooks.NOTEBOOK_NAMES
STUDENTS = ("reference", "stubs", "planted_bug")

# The planted bug: conv_backward_naive returns twice the bias gradient. Only
# the conv backward item uses conv_backward_naive (the CNN uses the fast layers).
BUG_LINE = "    db = dout.sum(axis=(0, 2, 3)).astype(b.dtype, copy=False)\n"
BUGGY_LINE = "    db = 2 * dout.sum(axis=(0, 2, 3)).astype(b.dtype, copy=False)\n"
BUGGY_ITEMS = ("conv_layers.conv_backward_naive.gradient",)


def grade_cells():
    """item id -> (notebook name, grade_id, points) from the instructor notebooks."""
    found = {}
    for name in NAMES:
        nb = nbformat.read(str(REPO_ROOT / "assignment" / (name + ".ipynb")), as_version=4)
        for cell in nb.cells:
            meta = cell.metadata["nbgrader"]
            if meta.get("grade"):
                item_id = cell.source.split('check("')[1].split('"')[0]
                found[item_id] = (name, meta["grade_id"], meta["points"])
    return found


def fill_solution_cells(student_nb_path, instructor_nb_path):
    """A student who wrote the final training configuration (the instructor's)."""
    student = nbformat.read(str(student_nb_path), as_version=4)
    instructor = {c.id: c for c in nbformat.read(str(instructor_nb_path), as_version=4).cells}
    for cell in student.cells:
        if cell.metadata["nbgrader"].get("solution"):
            cell.source = instructor[cell.id].source.replace("### BEGIN SOLUTION\n", "") \
                .replace("### END SOLUTION\n", "").replace("### END SOLUTION", "")
    nbformat.write(student, str(student_nb_path))


def nbgrader_env(course, cifar10_dir):
    env = release_notebooks.nbgrader_env(course / ".jupyter")
    # The grading machine has the kit (autograder, compiled cs231n); never the
    # reference as `nndl` (each student's own nndl/ is in the working folder).
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "assignment")])
    env["CIFAR10_DIR"] = str(cifar10_dir)
    env.pop("CNN_HOMEWORK_QUICK", None)
    return env


@pytest.fixture(scope="module")
def course(tmp_path_factory, cifar10_dir, reference_model):
    root = tmp_path_factory.mktemp("course")
    stubs = tmp_path_factory.mktemp("stubs") / "nndl"
    stub_paths = generate_stubs(SOLUTIONS / "nndl", stubs)
    student_files = ["nndl/" + p.name for p in stub_paths]
    release_notebooks.make_course(
        root, [REPO_ROOT / "assignment" / (n + ".ipynb") for n in NAMES],
        extra_files={"nndl/" + p.name: p for p in stub_paths}, student_files=student_files)
    env = nbgrader_env(root, cifar10_dir)
    release_notebooks.run_nbgrader(root, "generate_assignment", ASSIGNMENT, "--force", env=env)
    released = root / "release" / ASSIGNMENT

    for student in STUDENTS:
        folder = root / "submitted" / student / ASSIGNMENT
        shutil.copytree(released, folder)
        if student != "stubs":
            shutil.rmtree(folder / "nndl")
            shutil.copytree(SOLUTIONS / "nndl", folder / "nndl",
                            ignore=shutil.ignore_patterns("__pycache__"))
            fill_solution_cells(folder / "CNN.ipynb", REPO_ROOT / "assignment" / "CNN.ipynb")
            shutil.copyfile(reference_model, folder / "cnn_model.npz")
        # A submitted autograder/ must never replace the grading machine's.
        (folder / "autograder").mkdir()
        (folder / "autograder" / "__init__.py").write_text("raise RuntimeError('student copy')\n")
    conv = root / "submitted" / "planted_bug" / ASSIGNMENT / "nndl" / "conv_layers.py"
    source = conv.read_text()
    assert source.count(BUG_LINE) == 1
    conv.write_text(source.replace(BUG_LINE, BUGGY_LINE))

    result = release_notebooks.run_nbgrader(root, "autograde", ASSIGNMENT, "--force", env=env)
    feedback = release_notebooks.run_nbgrader(root, "generate_feedback", ASSIGNMENT, "--force",
                                              env=env)
    return root, result, feedback


def scores(root, student):
    """grade_id -> auto score of the student's graded cells."""
    with Gradebook("sqlite:///%s" % (root / "gradebook.db")) as gb:
        submission = gb.find_submission(ASSIGNMENT, student)
        return {grade.name: grade.auto_score for nb in submission.notebooks for grade in nb.grades}


def test_students_keep_their_own_nndl_and_not_their_autograder(course):
    root, _, _ = course
    autograded = root / "autograded" / "planted_bug" / ASSIGNMENT
    assert BUGGY_LINE in (autograded / "nndl" / "conv_layers.py").read_text()
    assert not (autograded / "autograder").exists()
    stub = (root / "autograded" / "stubs" / ASSIGNMENT / "nndl" / "conv_layers.py").read_text()
    assert "not implemented yet" in stub


def test_reference_gets_every_point(course):
    root, _, _ = course
    cells = grade_cells()
    spec = load_spec()
    got = scores(root, "reference")
    assert sorted(got) == sorted(grade_id for _, grade_id, _ in cells.values())
    for item_id, (_, grade_id, points) in cells.items():
        assert points == spec.item(item_id).points
        assert got[grade_id] == points, item_id
    with Gradebook("sqlite:///%s" % (root / "gradebook.db")) as gb:
        submission = gb.find_submission(ASSIGNMENT, "reference")
        assert submission.score == submission.max_score == sum(p for _, _, p in cells.values())


def test_bare_stubs_score_zero(course):
    root, _, _ = course
    assert set(scores(root, "stubs").values()) == {0}


def test_planted_bug_loses_exactly_the_points_of_the_items_it_breaks(course):
    root, _, _ = course
    cells = grade_cells()
    reference, buggy = scores(root, "reference"), scores(root, "planted_bug")
    for item_id, (_, grade_id, points) in cells.items():
        if item_id in BUGGY_ITEMS:
            assert buggy[grade_id] == 0, item_id
        else:
            assert buggy[grade_id] == reference[grade_id] == points, item_id


def test_generate_feedback_writes_html_for_every_notebook(course):
    root, _, _ = course
    for student in STUDENTS:
        for name in NAMES:
            html = root / "feedback" / student / ASSIGNMENT / (name + ".html")
            assert html.is_file(), html
            assert "<html" in html.read_text().lower()
    text = (root / "feedback" / "planted_bug" / ASSIGNMENT / "CNN-Layers.html").read_text()
    assert "conv_backward_naive" in text


def test_autograde_reads_no_cell_output_as_partial_credit(course):
    """Test cells print their verdict but return nothing nbgrader would parse."""
    _, result, _ = course
    log = result.stdout + result.stderr
    assert "cannot be converted to" not in log
    assert "partial credit" not in log
