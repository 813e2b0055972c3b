"""load_nndl imports a folder as `nndl` in isolation: the caller's sys.modules is
left as it was, two copies do not share modules, and import failures are values."""
import sys

import nndl.conv_layers  # noqa: F401 - the caller's own nndl (the reference, via tests/conftest.py)

from autograder.checks.loading import ImportFailure, kit_reference_dir, load_nndl

from tests.autograder.checks import support


def _nndl_entries():
    return {name: module for name, module in sys.modules.items()
            if name == "nndl" or name.startswith("nndl.")}


def test_loading_leaves_sys_modules_alone(tmp_path):
    before = _nndl_entries()
    stubs = load_nndl(support.stubs(tmp_path))
    assert _nndl_entries() == before
    assert stubs["conv_layers"] is not sys.modules["nndl.conv_layers"]
    assert str(tmp_path) in stubs["conv_layers"].__file__


def test_two_copies_are_independent_and_bind_their_own_dependencies(tmp_path):
    a = load_nndl(support.copy_reference(tmp_path / "a" / "nndl"))
    b = load_nndl(support.copy_reference(tmp_path / "b" / "nndl"))
    assert a["layers"] is not b["layers"]
    # conv_layers of copy a uses batchnorm from copy a's layers
    assert a["conv_layers"].batchnorm_forward is a["layers"].batchnorm_forward
    assert b["cnn"].softmax_loss is b["layers"].softmax_loss


def test_import_failures_are_values(tmp_path):
    folder = support.variant(tmp_path, {"layers.py": [("import numpy as np\n", "import numpy as np\n1 +\n")]})
    loaded = load_nndl(folder)
    assert isinstance(loaded["layers"], ImportFailure)
    assert "SyntaxError" in loaded["layers"].describe() and "layers.py, line" in loaded["layers"].describe()
    # dependents fail too, naming the file that broke
    assert isinstance(loaded["cnn"], ImportFailure)
    assert "layers.py" in loaded["cnn"].describe()


def test_the_kit_knows_its_reference_folder():
    assert kit_reference_dir() == support.SOLUTIONS_NNDL.resolve()
