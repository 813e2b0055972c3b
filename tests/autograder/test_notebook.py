"""autograder.notebook.check: in the kit against the reference, in a student
copy against the shipped expected outputs; hidden items only in the kit."""
import subprocess
import sys

import pytest

from autograder.checks.loading import load_nndl
from autograder.notebook import check, run

from tests.autograder.checks import support

VISIBLE = "conv_layers.conv_forward_naive.forward"
HIDDEN = "conv_layers.spatial_batchnorm_forward.test_mode"


def test_check_passes_on_the_reference_kernel_nndl(capsys):
    # tests/conftest.py puts solutions/ on sys.path: the kernel's `nndl` is the reference
    result = check(VISIBLE)
    assert result.score == result.max_score
    assert "%s: passed" % VISIBLE in capsys.readouterr().out


def test_hidden_items_work_in_the_kit():
    assert run(HIDDEN, nndl_modules=support.reference()).status == "passed"


def test_check_raises_with_the_feedback_on_stubs(tmp_path, capsys):
    stubs = load_nndl(support.stubs(tmp_path))
    with pytest.raises(AssertionError) as failure:
        check(VISIBLE, nndl_modules=stubs)
    assert "not implemented yet" in str(failure.value)
    assert "not implemented yet" in capsys.readouterr().out


def test_unknown_item_is_a_key_error():
    with pytest.raises(KeyError):
        run("conv_layers.no_such_item")


@pytest.fixture(scope="module")
def student_copy(tmp_path_factory):
    root = tmp_path_factory.mktemp("student")
    return support.make_student_copy(root / "homework", support.SOLUTIONS_NNDL)


def _kernel(folder, code):
    """Run code as a notebook kernel would: in the homework folder, which comes first on sys.path."""
    return subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True,
                          timeout=300)


def test_student_copy_checks_against_shipped_expected_values(student_copy):
    proc = _kernel(student_copy, "import autograder, nndl\n"
                   "print(autograder.__file__)\n"
                   "from autograder.checks.loading import kit_reference_dir\n"
                   "assert kit_reference_dir() is None\n"
                   "from autograder.notebook import check\n"
                   "check(%r)\ncheck('cnn.ThreeLayerConvNet.loss.gradient')\n"
                   "import sys\n"
                   "outside = [n for n, m in sys.modules.items() if n.startswith('autograder')\n"
                   "           and not getattr(m, '__file__', '').startswith(%r)]\n"
                   "assert not outside, outside  # the manifest ships everything check() needs\n"
                   % (VISIBLE, str(student_copy)))
    assert proc.returncode == 0, proc.stderr
    assert str(student_copy) in proc.stdout  # the copy's own autograder, not the kit's
    assert "%s: passed" % VISIBLE in proc.stdout


def test_student_copy_refuses_hidden_items(student_copy):
    proc = _kernel(student_copy, "from autograder.notebook import check\ncheck(%r)" % HIDDEN)
    assert proc.returncode != 0
    assert "hidden item, graded after the deadline" in proc.stderr


def test_student_copy_reports_a_failure(student_copy, tmp_path):
    broken = support.variant(tmp_path, {"conv_layers.py": [
        ("out[n, f, i, j] = np.sum(window * w[f]) + b[f]", "out[n, f, i, j] = np.sum(window * w[f])")]})
    proc = _kernel(student_copy, "from autograder.checks.loading import load_nndl\n"
                   "from autograder.notebook import check\n"
                   "check(%r, nndl_modules=load_nndl(%r))" % (VISIBLE, str(broken)))
    assert proc.returncode != 0
    assert "AssertionError" in proc.stderr and "out differs from the expected values" in proc.stderr
