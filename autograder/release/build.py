"""`python -m autograder release`: regenerate release/ from assignment/ and solutions/.

The committed assignment/*.ipynb are the notebooks' only source (edited in
Jupyter; autograder.release.authoring refreshes their numbers and outputs);
the build refuses notebooks whose nbgrader metadata or cell ids are broken.

The release is assembled in a temporary folder, then copied over release/
(files that are no longer produced are deleted). Every step is deterministic
(sorted walks, no time stamps, fixed zip metadata), so a second run changes no
byte and a test can regenerate the release and compare it with the committed one.
"""
import filecmp
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat

from autograder.release import notebook_metadata, notebooks, student_readme
from autograder.release.stubs import STUB_MESSAGE_END, find_regions, generate_stubs
from autograder.kit import KIT_ROOT
from autograder.spec import SPEC_FILE, load_spec, model_file

REPO_ROOT = KIT_ROOT
ASSIGNMENT = REPO_ROOT / "assignment"
SOLUTIONS = REPO_ROOT / "solutions"
AUTOGRADER = REPO_ROOT / "autograder"
TEMPLATES = Path(__file__).with_name("templates")
DEFAULT_OUT = REPO_ROOT / "release"

# Files of the provided cs231n package that ship; build artefacts (.so, the
# generated .c, __pycache__) and the data never do.
CS231N_SUFFIXES = (".py", ".pyx", ".pxd", ".h", ".sh", ".md", ".txt")
CS231N_SKIP_DIRS = ("__pycache__", "build", "cifar-10-batches-py")
# Instructor tools that hold the reference hyperparameters stay out.
CS231N_INSTRUCTOR_ONLY = ("train_cifar.py",)
SHELL_SCRIPTS = (".sh",)
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
VISIBLE_EXPECTED = "autograder/data/visible_expected.npz"


def add_arguments(parser):
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help="release folder to (re)write (default: release/ of the kit)")


def run(args):
    dirty = uncommitted_inputs()
    if dirty:
        print("warning: release built from uncommitted changes (commit them, then re-run, so "
              "that release/ matches a clean checkout):\n  " + "\n  ".join(dirty),
              file=sys.stderr)
    try:
        changed = build_release(Path(args.out))
    except NotebookMetadataError as error:
        print("release not written: %s" % error, file=sys.stderr)
        return 1
    print("release written to %s (%d file(s) changed)" % (args.out, len(changed)))
    for relpath in changed:
        print("  " + relpath)
    return 0


def uncommitted_inputs():
    """Inputs of the release with changes git has not committed ([] outside a checkout)."""
    try:
        result = subprocess.run(["git", "status", "--porcelain", "--", "assignment", "solutions",
                                 "autograder", "setup.py"],
                                cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    if result.returncode != 0:
        return []
    return [line[3:] for line in result.stdout.splitlines() if line.strip()]


# ---- the release, step by step ---------------------------------------------------
class NotebookMetadataError(ValueError):
    """The instructor notebooks' nbgrader metadata or cell ids are broken."""


def check_notebooks(assignment_dir):
    """Refuse notebooks nbgrader would misgrade (see notebook_metadata)."""
    found = notebook_metadata.problems({
        name + ".ipynb": nbformat.read(str(Path(assignment_dir) / (name + ".ipynb")), as_version=4)
        for name in notebooks.NOTEBOOK_NAMES})
    if found:
        raise NotebookMetadataError(
            "the notebooks in %s need fixing first:\n  %s" % (assignment_dir, "\n  ".join(found)))


def build_release(dest):
    """Regenerate the release in dest; returns the relative paths that changed."""
    with tempfile.TemporaryDirectory(prefix="cnn-release-") as staging:
        staging = Path(staging)
        assemble(staging)
        return sync_tree(staging, Path(dest))


def assemble(staging):
    """Write every file of the release into the empty folder staging."""
    check_notebooks(ASSIGNMENT)
    notebooks.generate_student_notebooks(ASSIGNMENT, staging)
    nndl_files = [p.name for p in generate_stubs(SOLUTIONS / "nndl", staging / "nndl")]
    copy_cs231n(ASSIGNMENT / "cs231n", staging / "cs231n")
    for name in ("setup.py", "pyproject.toml"):
        (staging / name).write_text(install_file_source(name))
    copy_student_autograder(staging)
    (staging / "collect_submission.py").write_text(collect_submission_source(nndl_files))
    (staging / "collect_submission.sh").write_text(
        '#!/usr/bin/env bash\n'
        '# Check the homework is complete and write cnn_submission.zip (see collect_submission.py).\n'
        'set -euo pipefail\n'
        'cd "$(dirname "${BASH_SOURCE[0]}")"\n'
        'exec "${PYTHON:-python3}" collect_submission.py "$@"\n')
    (staging / "README.md").write_text(readme_text())
    normalise_modes(staging)


def copy_cs231n(src, dest):
    """Copy the provided package without build artefacts, in a stable order."""
    for folder, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if d not in CS231N_SKIP_DIRS)
        for name in sorted(filenames):
            if not name.endswith(CS231N_SUFFIXES) or name in CS231N_INSTRUCTOR_ONLY:
                continue
            source = Path(folder) / name
            target = dest / source.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


def copy_student_autograder(staging):
    """The student-safe part of the autograder (issue 4's manifest), a
    visible-only spec and the expected outputs of the visible items."""
    from autograder.checks.visible import write_visible_expected
    from autograder.release import manifest

    for relpath in manifest.student_files():
        target = staging / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO_ROOT / relpath, target)
    spec_path = staging / "autograder" / "spec" / SPEC_FILE
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_visible_spec(spec_path)
    expected = staging / VISIBLE_EXPECTED
    expected.parent.mkdir(parents=True, exist_ok=True)
    write_visible_expected(expected)
    normalise_zip(expected)


def install_file_source(name):
    """The template `name` (setup.py or pyproject.toml) with the grader's Python and numpy
    from the spec's [environment] (the one source of those versions) as its requirements."""
    from autograder import environment
    from autograder.spec import load_spec
    pins = environment.install_pins(load_spec().environment)
    template = (TEMPLATES / name).read_text()
    if name == "pyproject.toml":
        markers = {'"@NUMPY_REQUIREMENT@"': '"%s"' % pins["numpy"]}
    else:
        markers = {"PYTHON_REQUIRES = None\n": "PYTHON_REQUIRES = %r\n" % pins["python_requires"],
                   "NUMPY_REQUIREMENT = None\n": "NUMPY_REQUIREMENT = %r\n" % pins["numpy"]}
    for marker, value in markers.items():
        if template.count(marker) != 1:
            raise ValueError("%s template lost its %s" % (name, marker.strip()))
        template = template.replace(marker, value)
    return template


def collect_submission_source(nndl_files):
    """The collect_submission template with the homework's facts filled in: its
    nndl files and the exact stub texts this build writes (an nndl stub's message,
    the raise of CNN.ipynb's solution cell), so the script recognises them."""
    template = (TEMPLATES / "collect_submission.py").read_text()
    facts = {
        "NNDL_FILES": tuple(sorted(nndl_files)),
        "NNDL_STUB_MARK": STUB_MESSAGE_END,
        "NOTEBOOK_STUB_MARK": notebooks.CODE_STUB.splitlines()[-1],
        "MODEL_FILE": model_file(load_spec()),
    }
    for name, value in facts.items():
        marker = "%s = None\n" % name
        if template.count(marker) != 1:
            raise ValueError("collect_submission template lost its %s line" % name)
        template = template.replace(marker, "%s = %r\n" % (name, value))
    return template


def student_work():
    """(path, [function names]) of every stubbed region, per nndl file."""
    todo = []
    for path in sorted((SOLUTIONS / "nndl").glob("*.py")):
        owners = []
        for region in find_regions(path.read_text(), path.name):
            if region.owner not in owners:
                owners.append(region.owner)
        if owners:
            todo.append(("nndl/" + path.name, owners))
    return todo


def readme_text():
    from autograder.checks import kinds
    from autograder.checks.kinds.accuracy import Rule
    from autograder.spec import load_spec
    spec = load_spec(visible_only=True)
    visible = [(item.id, item.points, [(g.name, g.share * item.points) for g in item.groups])
               for item in spec.items]
    accuracy = kinds.saved_model_items(load_spec().items)
    model_rule = {"model_file": accuracy[0].extras["model_file"],
                  "missing_model": accuracy[0].extras["missing_model"],
                  "retrain_time_limit": float(accuracy[0].extras["retrain_time_limit"]),
                  "full_credit_at": Rule.of(accuracy[0].extras).full_credit_at} \
        if accuracy else {}
    return student_readme.render(student_work(), visible, python=spec.environment.python,
                                 numpy=spec.environment.numpy, **model_rule)


# ---- determinism helpers -------------------------------------------------------
def normalise_zip(path):
    """Rewrite a zip (e.g. an .npz) with sorted members and a fixed time stamp."""
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, data in sorted(members, key=lambda m: m[0].filename):
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            fixed.compress_type = info.compress_type
            fixed.external_attr = 0o644 << 16
            archive.writestr(fixed, data)
    Path(path).write_bytes(buffer.getvalue())


def normalise_modes(root):
    """Shell scripts executable, everything else not (git records the x bit)."""
    for path in sorted(Path(root).rglob("*")):
        if path.is_file():
            path.chmod(0o755 if path.suffix in SHELL_SCRIPTS else 0o644)


def tree_files(root):
    """Relative '/'-separated paths of every file under root, sorted."""
    root = Path(root)
    if not root.exists():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts)


# Expected values computed by the reference differ in the last bits from one BLAS
# build or CPU kernel to another; such a difference is not a stale release.
NUMERIC_RTOL = 1e-12


def same_content(a, b):
    """True when files a and b are byte-identical, or both .npz with the same
    members, shapes and dtypes and float values equal to NUMERIC_RTOL of the file's
    largest magnitude (a gradient that is zero in exact arithmetic, a bias before
    batchnorm, is pure rounding noise and only compares on that scale)."""
    if filecmp.cmp(a, b, shallow=False):
        return True
    if Path(a).suffix != ".npz":
        return False
    import numpy as np
    try:
        with np.load(a, allow_pickle=False) as x, np.load(b, allow_pickle=False) as y:
            if sorted(x.files) != sorted(y.files):
                return False
            pairs = [(x[key], y[key]) for key in x.files]
    except (OSError, ValueError, zipfile.BadZipFile):
        return False
    if any(u.shape != v.shape or u.dtype != v.dtype for u, v in pairs):
        return False
    floats = [(u, v) for u, v in pairs if u.dtype.kind in "fc"]
    if not all(np.array_equal(u, v) for u, v in pairs if u.dtype.kind not in "fc"):
        return False
    scale = max([float(np.max(np.abs(v), initial=0.0)) for _, v in floats] + [0.0])
    return all(np.allclose(u, v, rtol=NUMERIC_RTOL, atol=NUMERIC_RTOL * scale, equal_nan=True)
               for u, v in floats)


def sync_tree(staging, dest):
    """Make dest hold exactly staging's files; returns the paths that changed."""
    dest.mkdir(parents=True, exist_ok=True)
    wanted = set(tree_files(staging))
    changed = []
    for relpath in tree_files(dest):
        if relpath not in wanted:
            (dest / relpath).unlink()
            changed.append(relpath)
    for relpath in sorted(wanted):
        source, target = staging / relpath, dest / relpath
        same = target.exists() and same_content(source, target)
        if not same:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            changed.append(relpath)
        target.chmod(source.stat().st_mode & 0o777)
    for folder in sorted((p for p in dest.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    return sorted(changed)
