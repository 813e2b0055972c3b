"""A bug in a carried-over layer (relu_backward, softmax_loss's dx) is charged in that layer's
own item, not again in every ThreeLayerConvNet item whose numbers it spoils.

Each planted bug is first checked against the reference directly (the layer differs, and the
network's gradients it produces differ), independently of the grader; then graded in-process
as the grader does (support.grade: report facts, every cause charged once)."""
import numpy as np
import pytest

from autograder.checks import make_cases, models
from autograder.checks.loading import load_nndl
from tests.autograder.checks import support

RELU = "layers.relu_backward.gradient"
SOFTMAX = "layers.softmax_loss.loss"
CNN_FORWARD = "cnn.ThreeLayerConvNet.loss.forward"
CNN_GRADIENT = "cnn.ThreeLayerConvNet.loss.gradient"

# appended to a copy of the reference's layers.py: the later definition is the module's
RELU_MASKED_BY_DOUT = '''

def relu_backward(dout, cache):
    return np.where(dout > 0, dout, 0.0)
'''
SOFTMAX_DX_NOT_AVERAGED = '''

def softmax_loss(x, y):
    shifted = x - np.max(x, axis=1, keepdims=True)
    probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
    N = x.shape[0]
    loss = -np.sum(np.log(probs[np.arange(N), y])) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx
'''


def with_layers_appended(tmp_path, text):
    folder = support.copy_reference(tmp_path / "nndl")
    with open(folder / "layers.py", "a") as f:
        f.write(text)
    return folder


def network_gradients(nndl_folder, case):
    modules = load_nndl(nndl_folder)
    model = modules["cnn"].ThreeLayerConvNet(**models.constructor_arguments(case))
    for name, value in models.case_params(case).items():
        model.params[name] = value.copy()
    return model.loss(np.asarray(case["X"]).copy(), np.asarray(case["y"]).copy())[1]


def planted_bug_is_real(folder, function, args):
    """The planted layer differs from the reference's, and so do the network's gradients."""
    planted = getattr(load_nndl(folder)["layers"], function)(*[a.copy() for a in args])
    reference = getattr(support.reference()["layers"], function)(*[a.copy() for a in args])
    planted = planted[-1] if isinstance(planted, tuple) else planted
    reference = reference[-1] if isinstance(reference, tuple) else reference
    assert not np.allclose(planted, reference)
    item = support.spec().item(CNN_GRADIENT)
    case = make_cases(item, np.random.default_rng(5))[0]
    mine, theirs = network_gradients(folder, case), network_gradients(support.SOLUTIONS_NNDL, case)
    assert not all(np.allclose(mine[k], theirs[k], rtol=1e-6, atol=1e-9) for k in theirs)


def graded(folder):
    ids = (RELU, SOFTMAX, CNN_FORWARD, CNN_GRADIENT)
    return support.grade(folder, [support.spec().item(i) for i in ids])


@pytest.mark.parametrize("planted, function, charged", [
    (RELU_MASKED_BY_DOUT, "relu_backward", RELU),
    (SOFTMAX_DX_NOT_AVERAGED, "softmax_loss", SOFTMAX)], ids=["relu_backward", "softmax_dx"])
def test_a_carried_over_backward_bug_is_charged_once_in_its_own_item(tmp_path, planted,
                                                                     function, charged):
    folder = with_layers_appended(tmp_path, planted)
    rng = np.random.default_rng(0)
    args = ((rng.standard_normal((4, 5)), rng.standard_normal((4, 5))) if function == "relu_backward"
            else (rng.standard_normal((6, 10)), rng.integers(0, 10, 6)))
    planted_bug_is_real(folder, function, args)

    results = graded(folder)
    assert results[charged].score < results[charged].max_score
    gradient, forward = results[CNN_GRADIENT], results[CNN_FORWARD]
    assert gradient.score == gradient.max_score, gradient.output
    assert forward.score == forward.max_score, forward.output
    assert {g.status for g in gradient.groups} == {"not_charged"}
    assert "whose bug is charged in %s" % charged in gradient.output
    assert "derived from your own forward" in gradient.output
    # the training sequences fail through the gradients: named where the bug is finally charged
    refunded = [g for g in forward.groups if g.status == "not_charged"]
    assert refunded and all("charged in %s" % charged in g.note for g in refunded)


def test_a_bug_in_the_networks_own_backward_is_still_charged(tmp_path):
    """relu_backward right, the network's backward wrong: deriving relu_backward does not make
    the gradients right, so nothing is refunded."""
    text = (support.SOLUTIONS_NNDL / "cnn.py").read_text()
    marker = "dh2, grads['W3'], grads['b3'] = affine_backward(dscores, cache3)"
    assert text.count(marker) == 1   # the reference's backward changed: update the planted line
    folder = support.copy_reference(tmp_path / "nndl")
    (folder / "cnn.py").write_text(text.replace(marker, marker.replace("dscores", "2 * dscores")))
    results = graded(folder)
    gradient = results[CNN_GRADIENT]
    assert gradient.score < gradient.max_score
    assert not [g for g in gradient.groups if g.status == "not_charged"]
    assert results[RELU].score == results[RELU].max_score


def test_correct_code_derives_the_same_gradients(tmp_path):
    """The derived passes of the reference give the reference's gradients (the derivation is
    accurate to the item's tolerance), so a right network is never 'explained'."""
    from autograder.checks import observe_all
    item = support.spec().item(CNN_GRADIENT)
    cases = make_cases(item, np.random.default_rng(3))
    observed = observe_all(item, cases, support.reference(), probes=True)
    for obs in observed:
        derived = [k for k in obs if k.startswith("derived.")]
        assert len(derived) == 2 * len([k for k in obs if k.startswith("grad.")])
        for key in derived:
            grad_key = key.split(".", 2)[2]
            np.testing.assert_allclose(obs[key], obs[grad_key], rtol=1e-6, atol=1e-8)
