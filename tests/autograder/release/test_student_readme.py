"""The student README names the real commands and files of the release."""
from pathlib import Path

from autograder.release import build, student_readme
from autograder.spec import load_spec

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_render_lists_the_work_and_the_visible_items():
    text = student_readme.render([("nndl/a.py", ["f", "C.g"])],
                                 [("a.f.forward", 3, [("all", 3)]),
                                  ("a.g.gradient", 12, [("core", 8), ("no_padding", 4)])])
    assert "- `nndl/a.py`: `f`, `C.g`" in text
    assert "- `a.f.forward` (3 points)" in text
    assert "- `a.g.gradient` (12 points: `core` 8, `no_padding` 4)" in text


def test_readme_explains_case_groups_and_side_effects():
    text = build.readme_text()
    assert "### How an item gives its points: case groups" in text
    assert "charged once" in text and "costs nothing" in text
    gradient = load_spec().item("conv_layers.conv_backward_naive.gradient")
    assert "`%s` (12 points: `core` 8, `no_padding` 1" % gradient.id in text


def test_readme_covers_setup_data_notebooks_selfcheck_and_submission():
    text = build.readme_text()
    for command in ("python setup.py build_ext --inplace", "pip install -e .",
                    "bash cs231n/datasets/get_datasets.sh", "jupyter notebook",
                    "python -m autograder check", "python collect_submission.py",
                    "CNN_HOMEWORK_QUICK=1", "CIFAR10_DIR", "NBGRADER_EXECUTION", "cnn_model.npz"):
        assert command in text, command
    for item in load_spec().items:
        assert (item.id in text) == (item.visibility == "visible"), item.id
    assert "`conv_forward_naive`" in text and "`ThreeLayerConvNet.loss`" in text


def test_every_file_the_readme_names_ships():
    files = set(build.tree_files(REPO_ROOT / "release"))
    for name in ("cs231n/datasets/get_datasets.sh", "setup.py", "collect_submission.py",
                 "cs231n/im2col_cython.pyx", "CNN.ipynb"):
        assert name in files


def test_readme_and_setup_ask_for_the_graders_python_and_numpy():
    """The spec's [environment] (the grader's versions; the shipped spec loader's tomllib needs
    3.11+ anyway) is what the README names and the generated setup.py requires."""
    declared = load_spec().environment
    text = build.readme_text()
    assert "Python %s and numpy %s, the versions the grader runs" % (
        declared.python, declared.numpy) in " ".join(text.split())
    assert 'pip install "numpy==%s.*"' % declared.numpy in text
    setup_py = build.install_file_source("setup.py")
    assert "PYTHON_REQUIRES = '==%s.*'" % declared.python in setup_py
    assert "NUMPY_REQUIREMENT = 'numpy==%s.*'" % declared.numpy in setup_py


def test_readme_says_visible_items_are_graded_on_new_inputs_of_the_same_shapes():
    text = " ".join(build.readme_text().split())
    assert "on new inputs of the same shapes" in text
    assert "a passing self-check and a failing graded case are not a contradiction" in text


def test_readme_says_how_to_execute_the_notebooks_and_what_collect_submission_checks():
    text = build.readme_text()
    command = ("jupyter nbconvert --to notebook --execute --inplace CNN-Layers.ipynb "
               "CNN-BatchNorm.ipynb CNN.ipynb")
    assert command in text
    flat = " ".join(text.split())
    for words in ("`--inplace` writes the outputs into the notebooks themselves",
                  "`X.nbconvert.ipynb` beside `X.ipynb`", "--force", "--use-executed",
                  "--use-original", "still raising its stub's `NotImplementedError`",
                  "no `cnn_model.npz`", "a notebook with no outputs"):
        assert words in flat, words
    # The flags the README names are the script's own.
    script = (build.TEMPLATES / "collect_submission.py").read_text()
    for flag in ("--force", "--use-executed", "--use-original"):
        assert '"%s"' % flag in script, flag
    assert text.index("## 5. Run the notebooks") < text.index("## 6. Submit")


def flat(text):
    return " ".join(text.split())


def test_readme_says_what_a_missing_model_gets_under_the_specs_choice():
    zero = student_readme.missing_model_text("zero")
    assert "gets 0 of the accuracy points" in zero
    assert load_spec().item("cnn.ThreeLayerConvNet.accuracy").extras["missing_model"] == "zero"
    assert zero in flat(build.readme_text())
    retrain = student_readme.render([], [], missing_model="retrain", retrain_time_limit=900.0)
    assert "the grader trains by running your `CNN.ipynb` (for up to 15 minutes)" in flat(retrain)
    assert zero not in flat(retrain)


def test_the_instructor_readme_says_the_same_as_the_student_readme():
    instructor = flat((REPO_ROOT / "README.md").read_text())
    for choice in ("zero", "retrain"):
        assert student_readme.missing_model_text(choice) in instructor, choice
    assert 'raise it (Configure Autograder > Autograder timeout)' in instructor


def test_readme_says_quick_mode_never_overwrites_the_model_and_collect_measures_it():
    text = flat(build.readme_text())
    assert "Its model is saved as `cnn_model.quick.npz`, never over your `cnn_model.npz`" in text
    assert "its validation accuracy and the points it earns are printed" in text
    assert "it says it could not measure the model" in text
