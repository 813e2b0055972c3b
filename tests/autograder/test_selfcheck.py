"""`python -m autograder check`: visible items only, one subprocess per item,
the grader's feedback, a total of the visible points."""
import subprocess
import sys

from autograder.spec import load_spec

from tests.autograder.checks import support

VISIBLE_POINTS = sum(item.points for item in load_spec(visible_only=True).items
                     if item.kind not in ("timing", "accuracy"))


def selfcheck(folder, *extra, cwd=None):
    return subprocess.run([sys.executable, "-m", "autograder", "check", "--dir", str(folder), *extra],
                          capture_output=True, text=True, timeout=600, cwd=cwd)


def test_reference_passes_every_visible_item(tmp_path):
    support.copy_reference(tmp_path / "nndl")
    proc = selfcheck(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Visible items: %g/%g points." % (VISIBLE_POINTS, VISIBLE_POINTS) in proc.stdout
    assert "hidden" in proc.stdout
    for item in load_spec().items:
        assert (item.id in proc.stdout) == (item.visibility == "visible" and item.kind != "timing")


def test_stubs_score_zero_with_feedback(tmp_path):
    support.stubs(tmp_path)
    proc = selfcheck(tmp_path / "stubs")
    assert proc.returncode == 1
    assert "Visible items: 0/%g points." % VISIBLE_POINTS in proc.stdout
    assert "not implemented yet" in proc.stdout
    assert "crashed" not in proc.stdout


def test_a_hanging_function_costs_only_its_items(tmp_path):
    support.variant(tmp_path, {"conv_layers.py": [
        ("    out = np.empty((N, C, out_h, out_w), dtype=x.dtype)\n",
         "    while True:\n        pass\n")]})
    proc = selfcheck(tmp_path, "--timeout-scale", "0.05",
                     "--item", "conv_layers.max_pool_forward_naive.forward",
                     "--item", "conv_layers.conv_forward_naive.forward")
    assert "did not finish within" in proc.stdout
    assert "PASS  conv_layers.conv_forward_naive.forward" in proc.stdout
    assert "Visible items: 3/5 points." in proc.stdout


def test_missing_nndl_folder_and_unknown_items(tmp_path):
    assert selfcheck(tmp_path).returncode == 2
    support.copy_reference(tmp_path / "nndl")
    proc = selfcheck(tmp_path, "--item", "conv_layers.spatial_batchnorm_forward.test_mode")
    assert proc.returncode == 2 and "not a visible item" in proc.stderr


def test_self_check_in_a_student_copy(tmp_path):
    folder = support.make_student_copy(tmp_path / "homework", support.SOLUTIONS_NNDL)
    proc = subprocess.run([sys.executable, "-m", "autograder", "check"], cwd=folder,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Visible items: %g/%g points." % (VISIBLE_POINTS, VISIBLE_POINTS) in proc.stdout
    # (that the grader's verbs are absent from a student copy cannot be shown here: the
    # kit's editable install would supply autograder.grade to any process on this machine)


def test_item_patterns_select_as_the_grader_does(tmp_path):
    # A glob selects the self-checkable visible items it matches (spec.select_items), in
    # spec order; a pattern that matches none of them is refused, named.
    support.copy_reference(tmp_path / "nndl")
    pool = [item.id for item in load_spec(visible_only=True).items
            if item.id.startswith("conv_layers.max_pool_")]
    assert len(pool) == 2
    proc = selfcheck(tmp_path, "--no-model", "--item", "conv_layers.max_pool_*")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shown = [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("PASS")]
    assert shown == pool
    proc = selfcheck(tmp_path, "--item", "conv_layers.max_pool_*", "--item", "nothing.*")
    assert proc.returncode == 2 and "not a visible item: nothing.*" in proc.stderr
