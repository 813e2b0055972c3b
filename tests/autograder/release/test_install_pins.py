"""The student's install files pin the grader's Python and numpy, read from the spec's
[environment] (the one source of those versions), and the kit installs the same numpy."""
import ast
import re
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from autograder.release import build
from autograder.spec import load_spec

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def built_release(tmp_path_factory):
    """A release built by the release builder's API into a temporary folder."""
    out = tmp_path_factory.mktemp("pinned") / "release"
    build.build_release(out)
    return out


def setup_keywords(path):
    """{name: value} of the constants a setup.py assigns at module level (literals only)."""
    values = {}
    for node in ast.parse(Path(path).read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return values


def test_release_setup_py_requires_the_graders_python_and_numpy_series(built_release):
    declared = load_spec().environment
    pins = setup_keywords(built_release / "setup.py")
    python, numpy = SpecifierSet(pins["PYTHON_REQUIRES"]), pins["NUMPY_REQUIREMENT"]
    assert pins["PYTHON_REQUIRES"] == "==%s.*" % declared.python
    assert numpy == "numpy==%s.*" % declared.numpy
    # the pins admit the declared series only
    major, minor = (int(p) for p in declared.python.split("."))
    assert "%d.%d.7" % (major, minor) in python and "%d.%d.0" % (major, minor + 1) not in python
    numpy_set = SpecifierSet(numpy[len("numpy"):])
    major, minor = (int(p) for p in declared.numpy.split("."))
    assert "%d.%d.6" % (major, minor) in numpy_set
    assert "%d.%d.0" % (major, minor - 1) not in numpy_set
    text = (built_release / "setup.py").read_text()
    assert "python_requires=PYTHON_REQUIRES" in text
    assert "install_requires=[NUMPY_REQUIREMENT, " in text


def test_release_pyproject_builds_against_the_graders_numpy_series(built_release):
    declared = load_spec().environment
    with open(built_release / "pyproject.toml", "rb") as f:
        requires = tomllib.load(f)["build-system"]["requires"]
    assert "numpy==%s.*" % declared.numpy in requires
    assert not [r for r in requires if "@" in r]   # no marker left unfilled


def test_release_readme_and_student_spec_name_the_same_versions(built_release):
    declared = load_spec().environment
    readme = " ".join((built_release / "README.md").read_text().split())
    assert "Python %s and numpy %s" % (declared.python, declared.numpy) in readme
    student = load_spec(built_release / "autograder" / "spec" / "grading.toml", visible_only=True)
    assert student.environment == declared


def test_the_pins_follow_the_spec(tmp_path, monkeypatch):
    """Another declaration gives other pins: nothing is written twice."""
    from autograder import spec as spec_module
    text = spec_module.SPEC_PATH.read_text()
    changed = tmp_path / "grading.toml"
    changed.write_text(re.sub(r'(?m)^numpy = "[^"]*"$', 'numpy = "1.26"',
                              re.sub(r'(?m)^python = "[^"]*"$', 'python = "3.12"', text)))
    monkeypatch.setattr(spec_module, "SPEC_PATH", changed)
    pins = build.install_file_source("setup.py")
    assert "PYTHON_REQUIRES = '==3.12.*'" in pins and "'numpy==1.26.*'" in pins
    assert '"numpy==1.26.*"' in build.install_file_source("pyproject.toml")


def test_a_template_that_lost_its_marker_is_refused(tmp_path, monkeypatch):
    (tmp_path / "setup.py").write_text("setup(install_requires=['numpy'])\n")
    monkeypatch.setattr(build, "TEMPLATES", tmp_path)
    with pytest.raises(ValueError, match="PYTHON_REQUIRES"):
        build.install_file_source("setup.py")


def test_the_kit_installs_the_graders_numpy_series_read_from_the_spec():
    """The kit's setup.py reads the spec's [environment]; run its helper on this checkout."""
    source = (REPO_ROOT / "setup.py").read_text()
    tree = ast.parse(source)
    helper = next(node for node in tree.body if isinstance(node, ast.FunctionDef)
                  and node.name == "grader_numpy_requirement")
    namespace = {"tomllib": tomllib, "SPEC": REPO_ROOT / "autograder" / "spec" / "grading.toml"}
    exec(compile(ast.Module([helper], []), "setup.py", "exec"), namespace)
    assert namespace["grader_numpy_requirement"]() == "numpy==%s.*" % load_spec().environment.numpy
    assert "install_requires=[grader_numpy_requirement()," in source
