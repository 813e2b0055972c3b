"""reference_values: the numbers of `reference-values` cells are rewritten from a run
in a reference kernel, and nothing else of the notebook changes."""
import shutil
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.release import reference_values

REPO_ROOT = Path(__file__).resolve().parents[3]
LAYERS = REPO_ROOT / "assignment" / "CNN-Layers.ipynb"


def reference_pool_output():
    """max_pool_forward_naive of the reference on the notebook's input, computed here."""
    sys.path.insert(0, str(REPO_ROOT / "solutions"))
    from nndl.conv_layers import max_pool_forward_naive
    x = np.linspace(-0.3, 0.4, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    return max_pool_forward_naive(x, {"pool_width": 2, "pool_height": 2, "stride": 2})[0]


def test_find_quotes_reads_each_correct_assignment():
    source = "out = f(x)\ncorrect_out = np.array([[1.0, 2.0],\n [3.0, 4.0]])\nprint(out)\n"
    [quote] = reference_values.find_quotes(source)
    assert (quote.target, quote.source) == ("correct_out", "out")
    assert source[quote.start:quote.end] == "[[1.0, 2.0],\n [3.0, 4.0]]"
    assert source[quote.statement_start:quote.statement_end].startswith("correct_out = np.array(")
    np.testing.assert_array_equal(reference_values.quoted_values(source)["correct_out"],
                                  [[1, 2], [3, 4]])


@pytest.mark.parametrize("source,words", [
    ("out = 1\nprint(out)\n", "assigns no correct_NAME"),
    ("correct_out = [1.0]\n", "must be assigned np.array"),
    ("correct_out = np.array(make())\n", "nested list of numbers"),
    ("%timeit f()\ncorrect_out = np.array([1.0])\n", "plain Python"),
])
def test_find_quotes_refuses_what_it_cannot_rewrite(source, words):
    with pytest.raises(reference_values.QuoteError, match=words):
        reference_values.find_quotes(source)


def test_array_literal_keeps_the_notebooks_layout():
    assert reference_values.array_literal(np.array([[0.5, -1.0], [2.0, 3.25]])) == \
        "[[0.50000000, -1.00000000],\n [2.00000000, 3.25000000]]"


def test_committed_notebook_is_left_untouched(tmp_path):
    """The numbers are the reference's already: nothing to rewrite, no byte changes."""
    path = tmp_path / LAYERS.name
    shutil.copyfile(LAYERS, path)
    assert reference_values.update_notebook(path) == []
    assert path.read_bytes() == LAYERS.read_bytes()


def test_wrong_numbers_are_rewritten_from_the_reference_and_nothing_else(tmp_path):
    path = tmp_path / LAYERS.name
    nb = nbformat.read(str(LAYERS), as_version=4)
    [cell] = [c for c in nb.cells if c.id == "layers-pool-forward"]
    [quote] = reference_values.find_quotes(cell.source)
    cell.source = cell.source[:quote.start] + "[[1, 2], [3, 4]]" + cell.source[quote.end:]
    nbformat.write(nb, str(path))
    assert reference_values.update_notebook(path) == ["layers-pool-forward"]
    rewritten = nbformat.read(str(path), as_version=4)
    [cell] = [c for c in rewritten.cells if c.id == "layers-pool-forward"]
    quoted = reference_values.quoted_values(cell.source)["correct_out"]
    assert np.max(np.abs(quoted - reference_pool_output())) <= 0.5e-8 + 1e-15
    original = nbformat.read(str(LAYERS), as_version=4)
    assert [(c.id, c.source, c.get("outputs")) for c in rewritten.cells] == \
        [(c.id, c.source, c.get("outputs")) for c in original.cells]


def test_quotes_in_one_cell_follow_the_cell_in_order(tmp_path):
    """Each quote takes its name's value at that point, and later code sees the new
    numbers: b is computed from the rewritten correct_a."""
    nb = nbformat.v4.new_notebook()
    tagged = nbformat.v4.new_code_cell(
        "a = base * 2\n"
        "correct_a = np.array([0.0])\n"
        "b = correct_a + 1\n"
        "correct_b = np.array([0.0])\n"
        "print('done')")
    tagged.metadata["tags"] = [reference_values.TAG]
    nb.cells = [nbformat.v4.new_code_cell("import numpy as np\nbase = np.arange(3.0)"), tagged,
                nbformat.v4.new_code_cell("raise RuntimeError('past the last tagged cell')")]
    path = tmp_path / "small.ipynb"
    nbformat.write(nb, str(path))
    assert reference_values.update_notebook(path) == [tagged.id]
    [_, cell, _] = nbformat.read(str(path), as_version=4).cells
    assert cell.source == ("a = base * 2\n"
                           "correct_a = np.array([0.00000000, 2.00000000, 4.00000000])\n"
                           "b = correct_a + 1\n"
                           "correct_b = np.array([1.00000000, 3.00000000, 5.00000000])\n"
                           "print('done')")
