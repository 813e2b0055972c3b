"""Alternative correct implementations (scalar loops, vectorised im2col with
einsum, as_strided windows; an independent ThreeLayerConvNet; another ReLU and
softmax) score full marks on the items they implement."""
import shutil
from pathlib import Path

import numpy as np
import pytest

from autograder.checks.loading import load_nndl
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


# ---- the original course template's style, with three CNN bugs -------------------------------

TEMPLATE = Path(__file__).resolve().parent / "fixtures" / "template_style"
CNN_ITEMS = ("cnn.ThreeLayerConvNet.loss.forward", "cnn.ThreeLayerConvNet.loss.gradient")


def template_nndl(folder):
    folder = support.copy_reference(folder)
    for module in TEMPLATE.glob("*.py"):
        shutil.copyfile(module, folder / module.name)
    return folder


def _close(a, b, dtype):
    rtol, atol = (1e-4, 1e-5) if dtype == np.float32 else (1e-9, 1e-11)
    return np.allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_template_style_layers_match_the_reference_numerically(tmp_path, dtype):
    # independent of the grader: the fixture's layers against the reference's, on odd sizes
    mine = load_nndl(template_nndl(tmp_path / "nndl"))["conv_layers"]
    ref = support.reference()["conv_layers"]
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 7, 5)).astype(dtype)
    w = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    conv_param = {"stride": 2, "pad": 1}
    out, cache = mine.conv_forward_naive(x, w, b, conv_param)
    ref_out, ref_cache = ref.conv_forward_naive(x, w, b, conv_param)
    assert out.dtype == np.float64 and _close(out, ref_out, dtype)
    dout = rng.standard_normal(out.shape).astype(dtype)
    for a, e in zip(mine.conv_backward_naive(dout, cache), ref.conv_backward_naive(dout, ref_cache)):
        assert _close(a, e, dtype)

    pool_param = {"pool_height": 3, "pool_width": 2, "stride": 2}
    xp = rng.permutation(np.linspace(-1, 1, 2 * 2 * 7 * 6)).reshape(2, 2, 7, 6).astype(dtype)
    out, cache = mine.max_pool_forward_naive(xp, pool_param)
    ref_out, ref_cache = ref.max_pool_forward_naive(xp, pool_param)
    assert _close(out, ref_out, dtype)
    dout = rng.standard_normal(out.shape).astype(dtype)
    assert _close(mine.max_pool_backward_naive(dout, cache)[...],
                  ref.max_pool_backward_naive(dout, ref_cache), dtype)

    xb = (3 + 2 * rng.standard_normal((4, 3, 5, 3))).astype(dtype)
    gamma, beta = rng.uniform(0.5, 2, 3).astype(dtype), rng.uniform(-1, 1, 3).astype(dtype)
    mine_param, ref_param = {"mode": "train"}, {"mode": "train"}
    out, cache = mine.spatial_batchnorm_forward(xb, gamma, beta, mine_param)
    ref_out, ref_cache = ref.spatial_batchnorm_forward(xb, gamma, beta, ref_param)
    assert _close(out, ref_out, dtype)
    dout = rng.standard_normal(xb.shape).astype(dtype)
    for a, e in zip(mine.spatial_batchnorm_backward(dout, cache),
                    ref.spatial_batchnorm_backward(dout, ref_cache)):
        assert _close(a, e, dtype)
    for mode_param in (mine_param, ref_param):
        mode_param["mode"] = "test"
    assert _close(mine.spatial_batchnorm_forward(xb + 1, gamma, beta, mine_param)[0],
                  ref.spatial_batchnorm_forward(xb + 1, gamma, beta, ref_param)[0], dtype)


def _models(tmp_path, input_dim, reg, use_batchnorm):
    folder = tmp_path / "nndl"
    mine = load_nndl(folder if folder.exists() else template_nndl(folder))["cnn"].ThreeLayerConvNet
    ref = support.reference()["cnn"].ThreeLayerConvNet
    args = dict(input_dim=input_dim, num_filters=3, filter_size=3, hidden_dim=5, num_classes=4,
                reg=reg, dtype=np.float64, use_batchnorm=use_batchnorm, weight_scale=0.1)
    a, b = mine(**args), ref(**args)
    for name in b.params:
        a.params[name] = b.params[name].copy()
    return a, b


def test_template_style_cnn_has_exactly_its_three_bugs(tmp_path):
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((4, 3, 8, 6)), rng.integers(0, 4, 4)
    # even sizes, reg 0, no batchnorm: identical to the reference
    mine, ref = _models(tmp_path, (3, 8, 6), 0.0, False)
    (loss, grads), (ref_loss, ref_grads) = mine.loss(X, y), ref.loss(X, y)
    assert _close(loss, ref_loss, np.float64)
    assert all(_close(grads[k], ref_grads[k], np.float64) for k in ref_grads)
    # bug 2: the loss regularises W3 with W3**3, the gradients are right
    mine, ref = _models(tmp_path, (3, 8, 6), 0.4, False)
    (loss, grads), (ref_loss, ref_grads) = mine.loss(X, y), ref.loss(X, y)
    W3 = ref.params["W3"]
    assert _close(loss - ref_loss, 0.2 * (np.sum(W3 ** 3) - np.sum(W3 ** 2)), np.float64)
    assert not _close(loss, ref_loss, np.float64)
    assert all(_close(grads[k], ref_grads[k], np.float64) for k in ref_grads)
    # bug 3: loss(X) runs batchnorm in train mode (the batch's statistics)
    mine, ref = _models(tmp_path, (3, 8, 6), 0.0, True)
    mine.loss(X, y), ref.loss(X, y)
    assert not _close(mine.loss(X + 1), ref.loss(X + 1), np.float64)
    assert mine.bn_params["bn_param1"]["mode"] == "train"
    # bug 1: W2 sized with / is wrong for odd image sizes only
    args = dict(num_filters=3, filter_size=3, hidden_dim=5)
    template = load_nndl(tmp_path / "nndl")["cnn"].ThreeLayerConvNet
    assert template(input_dim=(3, 8, 6), **args).params["W2"].shape == (3 * 4 * 3, 5)
    assert template(input_dim=(3, 7, 9), **args).params["W2"].shape != (3 * 3 * 4, 5)


def test_template_style_gets_full_credit_on_its_correct_layers_only(tmp_path):
    results = support.grade(template_nndl(tmp_path / "nndl"))
    lost = support.lost_points(results)
    # each of its three bugs fails one case group of the forward item, and only that group;
    # the gradient item's cases (even sizes, the right gradients) all pass
    forward_id = CNN_ITEMS[0]
    assert set(lost) == {forward_id}, {k: results[k].output for k in lost}
    failed = {g.name for g in results[forward_id].groups if g.status != "passed"}
    assert failed == {"regularisation", "batchnorm", "odd_sizes"}
    assert lost[forward_id] == sum(g.points for g in results[forward_id].groups if g.name in failed)
    forward = results[forward_id].output
    assert "check the regularisation term" in forward
    assert "set the mode of every bn_param to 'test' when y is None" in forward
    assert "W2 has shape (num_filters * (H // 2) * (W // 2), hidden_dim)" in forward
    # the float64 outputs of the float32 cases are a note, not a deduction
    assert "Note: out has dtype float64" in results["conv_layers.conv_forward_naive.forward_secret"].output


def test_template_style_in_a_real_grade_run(tmp_path):
    from autograder.grade.pipeline import GradeOptions, grade
    from tests.autograder.grade import helpers
    submission = helpers.reference_submission(tmp_path / "submission")
    shutil.rmtree(submission / "nndl")
    template_nndl(submission / "nndl")
    items = "conv_layers.*,layers.*," + ",".join(CNN_ITEMS)
    result = grade(submission, tmp_path / "out", GradeOptions(seed=99, items=items))
    scores = {i.item_id: (i.score, i.max_score) for i in result.items}
    assert result.grader_error == ""
    lost = {k for k, (score, top) in scores.items() if score < top}
    assert lost == {CNN_ITEMS[0]}, scores
    feedback = (tmp_path / "out" / "feedback.md").read_text()
    for words in ("regularisation term", "bn_param to 'test'", "W2 has shape"):
        assert words in feedback
