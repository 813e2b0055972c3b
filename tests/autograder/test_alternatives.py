"""Alternative correct implementations (scalar loops, vectorised im2col with
einsum, as_strided windows; an independent ThreeLayerConvNet; another ReLU and
softmax) score full marks on the items they implement."""
import shutil
from pathlib import Path

import pytest

from tests.autograder.checks import support

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "alternatives"
STYLES = ("loops", "vectorised", "strided")


def build(style, tmp_path):
    folder = support.copy_reference(tmp_path / "nndl")
    for module in (FIXTURES / style).glob("*.py"):
        if module.name == "layers_extra.py":
            with open(folder / "layers.py", "a") as f:
                f.write(module.read_text())
        else:
            shutil.copyfile(module, folder / module.name)
    return folder


def replaced_items(style):
    """The items whose functions the style replaces (all others keep the reference code)."""
    names = {p.stem for p in (FIXTURES / style).glob("*.py")}
    modules = {"conv_layers"} & names
    if "cnn" in names:
        modules.add("cnn")
    if "layers_extra" in names:
        modules.add("layers")
    return [item for item in support.fast_items() if item.module in modules]


@pytest.mark.parametrize("style", STYLES)
def test_alternative_scores_full_marks(style, tmp_path):
    folder = build(style, tmp_path)
    # the CNN items run the alternative spatial batchnorm too (through conv_layer_utils)
    results = support.grade(folder)
    assert support.lost_points(results) == {}, {k: r.output for k, r in results.items() if r.score < r.max_score}
    assert len(replaced_items(style)) >= 6


def test_alternatives_really_differ_from_the_reference():
    for style in STYLES:
        text = (FIXTURES / style / "conv_layers.py").read_text()
        assert "### BEGIN SOLUTION" not in text
        assert text != (support.SOLUTIONS_NNDL / "conv_layers.py").read_text()
    assert "as_strided" in (FIXTURES / "strided" / "conv_layers.py").read_text()
    assert "einsum" in (FIXTURES / "vectorised" / "conv_layers.py").read_text()
