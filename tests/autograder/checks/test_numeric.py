"""Numerical probes of the student's own forward: exact on a known function, and
in agreement with the reference's analytic gradients on every graded case."""
import numpy as np
import pytest

from autograder.checks import numeric, observe_all

from tests.autograder.checks import support


def test_probe_of_a_known_function():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 7))
    obs = numeric.probe(lambda v: float(np.sum(v ** 3)), x, 3 * x ** 2, rng, "num.x", count=10)
    assert obs["num.x.index"].shape == (10,) and len(set(obs["num.x.index"])) == 10
    assert np.allclose(obs["num.x.value"], (3 * x ** 2).ravel()[obs["num.x.index"]], rtol=1e-8)
    assert abs(obs["num.x.dir_numeric"] - obs["num.x.dir_analytic"]) < 1e-8
    assert numeric.agreement(3 * x ** 2, obs, "num.x", 1e-6)[0] is True
    assert numeric.agreement(3 * x ** 2 + 0.1, obs, "num.x", 1e-6)[0] is False
    assert numeric.agreement(None, obs, "num.x", 1e-6)[0] is None


def test_small_inputs_are_probed_everywhere():
    x = np.arange(6.0)
    obs = numeric.probe(lambda v: float(np.sum(v)), x, np.ones(6), np.random.default_rng(0), "p")
    assert list(obs["p.index"]) == list(range(6))


@pytest.mark.parametrize("item", [i for i in support.fast_items() if "gradient" in i.kind],
                         ids=lambda item: item.id)
def test_reference_backward_agrees_with_its_numerical_probes(item):
    cases, _ = support.expected(item.id)
    for case, obs in zip(cases, observe_all(item, cases, support.reference())):
        prefixes = [k[:-len(".index")] for k in obs if k.startswith("num.") and k.endswith(".index")]
        if "float32" in case["_tags"]:
            assert prefixes == []  # float32 cases are not probed
            continue
        assert prefixes
        scale = max((float(np.abs(obs[k]).max()) for k in obs if k.startswith("grad.")), default=0.0)
        for prefix in prefixes:
            name = prefix[len("num."):]
            grad_key = name if item.kind == "model_gradient" else "d" + name
            agrees, error = numeric.agreement(obs[grad_key], obs, prefix, 1e-5, scale)
            assert agrees, (case["_label"], grad_key, error)
