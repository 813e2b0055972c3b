"""results.json records the versions that graded (extra_data.environment), and `grade`
warns on stderr when they are not the ones the spec's [environment] declares."""
import json
import platform
import subprocess
import sys

import numpy as np

from autograder.spec import load_spec
from tests.autograder.grade import helpers

ITEMS = "conv_layers.max_pool_forward_naive.forward"


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "autograder", "grade"] + list(args),
                          capture_output=True, text=True, cwd=str(helpers.REPO_ROOT), timeout=300)


def test_results_json_records_the_graders_python_and_numpy(tmp_path):
    folder = helpers.reference_submission(tmp_path / "alice")
    out = tmp_path / "out"
    proc = run_cli(str(folder), "--out", str(out), "--items", ITEMS, "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    declared = load_spec().environment
    recorded = json.loads((out / "results.json").read_text())["extra_data"]["environment"]
    assert recorded["python"] == platform.python_version()
    assert recorded["numpy"] == np.__version__
    assert recorded["declared"] == {"python": declared.python, "numpy": declared.numpy}
    matches = (platform.python_version().startswith(declared.python + ".")
               and np.__version__.startswith(declared.numpy + "."))
    assert recorded["matches_declared"] == matches
    assert ("[environment] declares" in proc.stderr) == (not matches)


def test_a_grader_on_another_numpy_than_declared_warns_and_records_it(tmp_path):
    declared_elsewhere = "1.26" if not np.__version__.startswith("1.26.") else "2.4"
    spec = helpers.spec_with(tmp_path / "grading.toml", settings={"numpy": declared_elsewhere})
    assert load_spec(spec).environment.numpy == declared_elsewhere
    folder = helpers.reference_submission(tmp_path / "bob")
    out = tmp_path / "out"
    proc = run_cli(str(folder), "--out", str(out), "--items", ITEMS, "--spec", str(spec))
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "[environment] declares" in line]
    assert warnings == ["autograder grade: warning: this grader runs numpy %s, but the spec's "
                        "[environment] declares numpy %s (what students are told to install and "
                        "the release pins): grade with numpy %s.x, or change the declaration "
                        "and regenerate the release" % (np.__version__, declared_elsewhere,
                                                        declared_elsewhere)]
    recorded = json.loads((out / "results.json").read_text())["extra_data"]["environment"]
    assert recorded["numpy"] == np.__version__
    assert recorded["declared"]["numpy"] == declared_elsewhere
    assert recorded["matches_declared"] is False
