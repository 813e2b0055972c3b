"""Build autograder.zip: setup.sh, run_autograder, and source/ (the kit's sdist and the rest)."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

from autograder.sandbox.session import KIT_ROOT, SOLUTIONS_DIR
from autograder.spec import SPEC_FILE, SPEC_PATH

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when the autograder image is built.
set -euo pipefail
source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$source_dir"
if [ -z "${AUTOGRADER_SKIP_APT:-}" ]; then
    apt-get update -qq
    # bubblewrap: the sandbox's namespaces; python3-venv: the kit's own virtualenv;
    # the rest builds the Cython extension
    apt-get install -y -qq bubblewrap util-linux python3 python3-pip python3-venv python3-dev \\
        build-essential
fi
# The kit lives in a virtualenv of its own: a stock system Python (Debian 12, Ubuntu 24.04)
# is externally managed (PEP 668) and refuses pip installs outside one. run_autograder
# uses this virtualenv's interpreter.
venv="$source_dir/venv"
"${AUTOGRADER_PYTHON:-python3}" -m venv --system-site-packages "$venv"
python="$venv/bin/python"
"$python" -m pip install --quiet dist/*.tar.gz
data_dir="$source_dir/data"
if [ ! -d "$data_dir/cifar-10-batches-py" ]; then
    if [ -f "$source_dir/cifar-10-python.tar.gz" ]; then
        "$python" -m cs231n.datasets.get_datasets --archive "$source_dir/cifar-10-python.tar.gz" --dest "$data_dir"
    else
        "$python" -m cs231n.datasets.get_datasets --dest "$data_dir"
    fi
fi
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade /autograder/submission into
# /autograder/results/results.json and print the one-screen summary (Gradescope's
# debugging pane shows it). AUTOGRADER_ROOT moves /autograder (for tests).
set -u
root="${AUTOGRADER_ROOT:-/autograder}"
python="$root/source/venv/bin/python"   # made by setup.sh
[ -x "$python" ] || python="${AUTOGRADER_PYTHON:-python3}"
cd "$root"   # never the submission folder: nothing of it may shadow a module
exec "$python" -m autograder.gradescope.run_autograder --root "$root"
"""

KIT_FILES = ("setup.py", "pyproject.toml")
KIT_TREES = ("autograder", "assignment/cs231n")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", "*.c", "cifar-10-batches-py",
                              "*.tar.gz", "build")


HELDOUT_IN_ZIP = "heldout.npz"   # beside grading.toml in source/, which names it


def build_sdist(dest_dir, leave_out=()):
    """The kit's sdist (built from a clean copy of its sources, so the repository stays
    untouched), without the files `leave_out` (absolute paths); returns its path."""
    leave_out = {os.path.realpath(path) for path in leave_out}

    def ignore(folder, names):
        return set(SKIP(folder, names)) | {
            name for name in names if os.path.realpath(os.path.join(folder, name)) in leave_out}
    work = tempfile.mkdtemp(prefix="autograder-sdist-")
    try:
        tree = os.path.join(work, "kit")
        for name in KIT_FILES:
            os.makedirs(tree, exist_ok=True)
            shutil.copy2(os.path.join(KIT_ROOT, name), os.path.join(tree, name))
        for name in KIT_TREES:
            shutil.copytree(os.path.join(KIT_ROOT, name), os.path.join(tree, name),
                            ignore=ignore)
        subprocess.run([sys.executable, "setup.py", "-q", "sdist", "--formats=gztar",
                        "--dist-dir", dest_dir], cwd=tree, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        built = [n for n in os.listdir(dest_dir) if n.endswith(".tar.gz")]
        return os.path.join(dest_dir, built[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build_zip(out, spec_path=None, items=None, cifar_archive=None, include_heldout=False):
    """Write the Gradescope zip to `out`; returns its path. The course's held-out file (the
    accuracy item's heldout_file) goes in only with include_heldout; otherwise the zip's spec
    names none and Gradescope grades the held-out split on the public test batch."""

    spec_path = str(spec_path or SPEC_PATH)
    private = heldout_file_of(spec_path, items)
    if include_heldout and private is None:
        raise ValueError("--include-heldout: the spec's accuracy item names no heldout_file")
    out = os.path.abspath(out)
    work = tempfile.mkdtemp(prefix="autograder-gradescope-")
    try:
        sdist = build_sdist(os.path.join(work, "dist"), leave_out=[private] if private else [])
        partial = out + ".part"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
            _add_text(z, "setup.sh", SETUP_SH, executable=True)
            _add_text(z, "run_autograder", RUN_AUTOGRADER, executable=True)
            z.write(sdist, "dist/" + os.path.basename(sdist))
            for root, dirs, files in os.walk(os.path.join(SOLUTIONS_DIR, "nndl")):
                dirs[:] = [d for d in dirs if d != "__pycache__"]
                for name in sorted(files):
                    if name.endswith(".py"):
                        path = os.path.join(root, name)
                        z.write(path, "solutions/" + os.path.relpath(path, SOLUTIONS_DIR))
            with open(spec_path, encoding="utf-8") as f:
                _add_text(z, SPEC_FILE, zip_spec_text(f.read(), include_heldout))
            if include_heldout:
                z.write(private, HELDOUT_IN_ZIP)
            staff = shipped_overrides(spec_path)
            if staff:
                z.write(*staff)
            _add_text(z, "gradescope.json", json.dumps({"items": items}, indent=2) + "\n")
            _add_text(z, "README.txt", "Upload this zip as the Gradescope autograder (course "
                      "staff only: it holds the reference solutions).\n\n"
                      + "\n\n".join(filter(None, [timeout_note(spec_path, items), heldout_note(
                          spec_path, items, include_heldout)])) + "\n")
            if cifar_archive:
                z.write(cifar_archive, "cifar-10-python.tar.gz", compress_type=zipfile.ZIP_STORED)
        os.replace(partial, out)
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def shipped_overrides(spec_path):
    """(path, name in the zip) of the spec's [overrides] file, checked against the spec's
    items (the students are only known on Gradescope), or None when it names none.
    The name is the spec's own, so the runner finds it beside grading.toml."""
    from autograder.policy import overrides
    from autograder.spec import load_spec
    path = overrides.overrides_path(str(spec_path))
    if not path:
        return None
    name = load_spec(spec_path).overrides.file
    if os.path.isabs(name) or os.path.normpath(name).startswith(".."):
        raise overrides.OverrideError("[overrides] file %r must lie beside the spec to ship "
                                      "in the Gradescope zip" % name)
    found = overrides.read_overrides(path)
    overrides.check_names(found, [o.submission for o in found], load_spec(spec_path).ids(),
                          path)
    return path, os.path.normpath(name)


_HELDOUT_LINE = re.compile(r"(?m)^[ \t]*heldout_file[ \t]*=.*$")


def heldout_file_of(spec_path, items=None):
    """The held-out file (absolute path) of the graded accuracy item, or None."""
    from autograder.grade import heldout
    from autograder.spec import load_spec, select_items
    paths = heldout.heldout_files(select_items(load_spec(spec_path), items), spec_path)
    if len(paths) > 1:
        raise ValueError("the accuracy items name several held-out files (%s); the Gradescope "
                         "zip takes one" % ", ".join(paths))
    return paths[0] if paths else None


def zip_spec_text(spec_text, include_heldout):
    """The spec as the zip holds it: its heldout_file names the bundled copy beside it, or,
    not bundled, is left out (commented), so that nothing of the instructor's path ships."""
    if include_heldout:
        line = 'heldout_file = "%s"   # bundled by --include-heldout' % HELDOUT_IN_ZIP
    else:
        line = ("# heldout_file: not in this zip (build with --include-heldout to bundle it); "
                "held-out images come from the public test batch, transformed")
    return _HELDOUT_LINE.sub(line, spec_text)


def heldout_note(spec_path=None, items=None, include_heldout=False):
    """What the instructor must know about the held-out images on Gradescope ('' when the
    spec names no held-out file)."""
    private = heldout_file_of(str(spec_path or SPEC_PATH), items)
    if private is None:
        return ""
    if include_heldout:
        return ("The course's held-out file %s is in this zip (--include-heldout): Gradescope "
                "grades the held-out accuracy on it. Keep the zip to the course staff."
                % os.path.basename(private))
    return ("The spec names the held-out file %s, which is not in this zip: on Gradescope the "
            "held-out accuracy is measured on transformed public test images (results.json "
            "extra_data.accuracy.heldout_source says so). Build with --include-heldout to "
            "bundle the file." % os.path.basename(private))


GRADESCOPE_DEFAULT_TIMEOUT = 40 * 60   # seconds: Gradescope's default autograder timeout


def timeout_note(spec_path=None, items=None):
    """What the instructor must know about Gradescope's autograder timeout under the spec's
    missing_model: a retrain of a submission without its model runs inside Gradescope's
    timeout, so "retrain" needs it raised. '' when no accuracy item is graded."""
    from autograder.checks import kinds
    from autograder.checks.kinds.accuracy import MISSING_RETRAIN
    from autograder.spec import SPEC_PATH, load_spec, select_items
    graded = select_items(load_spec(spec_path or SPEC_PATH), items)
    accuracy_items = kinds.saved_model_items(graded)
    if not accuracy_items:
        return ""
    item = accuracy_items[0]
    model_file = item.extras["model_file"]
    if item.extras.get("missing_model") != MISSING_RETRAIN:
        return ("A submission without %s gets 0 on the accuracy item (missing_model = \"zero\"): "
                "nothing is trained, so Gradescope's default autograder timeout (%d minutes) is "
                "enough." % (model_file, GRADESCOPE_DEFAULT_TIMEOUT // 60))
    grading = sum(float(i.time_limit) for i in graded)
    needed = float(item.extras["retrain_time_limit"]) + grading
    minutes = int(-(-needed // 60))
    return ("A submission without %s is retrained from its CNN.ipynb (missing_model = "
            "\"retrain\", up to %.0f s) inside Gradescope's run: raise the assignment's "
            "autograder timeout (Gradescope: Configure Autograder > Autograder timeout) to at "
            "least %d minutes (retrain_time_limit plus the graded items' time limits), or "
            "Gradescope stops the run and the student gets no grade."
            % (model_file, float(item.extras["retrain_time_limit"]), minutes))


def _add_text(z, name, text, executable=False):
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.external_attr = ((0o100755 if executable else 0o100644) << 16)
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, text)
