"""Case builders: plain arrays only, the notebook's fixed inputs, and the
coverage the issue asks for (stride 2, odd sizes, non-square filters,
overlapping and non-tiling pools, float32, non-32 CNN images)."""
import json

import numpy as np
import pytest

from autograder.checks.cases import CASES, label_of, tags_of

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("name", sorted(CASES))
def test_cases_are_plain_arrays_that_round_trip(name, tmp_path):
    for i, case in enumerate(CASES[name](np.random.default_rng(1))):
        arrays = {k: np.asarray(v) for k, v in case.items()}
        assert all(a.dtype.kind in "biufU" for a in arrays.values()), name
        np.savez(tmp_path / ("%d.npz" % i), **arrays)
        with np.load(tmp_path / ("%d.npz" % i), allow_pickle=False) as back:
            for key, value in arrays.items():
                assert np.array_equal(back[key], value)
        scalars = {k: v for k, v in case.items() if np.ndim(v) == 0}
        json.dumps({k: np.asarray(v).item() for k, v in scalars.items()})
        assert label_of(case)


def test_fixed_cases_are_the_notebooks_inputs():
    (conv,) = CASES["conv_forward_fixed"](RNG)
    assert np.array_equal(conv["x"], np.linspace(-0.1, 0.5, num=96).reshape(2, 3, 4, 4))
    assert np.array_equal(conv["w"], np.linspace(-0.2, 0.3, num=144).reshape(3, 3, 4, 4))
    assert np.array_equal(conv["b"], np.linspace(-0.1, 0.2, num=3))
    assert (conv["conv_param.stride"], conv["conv_param.pad"]) == (2, 1)
    (pool,) = CASES["pool_forward_fixed"](RNG)
    assert np.array_equal(pool["x"], np.linspace(-0.3, 0.4, num=96).reshape(2, 3, 4, 4))
    assert (pool["pool_param.pool_height"], pool["pool_param.pool_width"], pool["pool_param.stride"]) == (2, 2, 2)


def test_conv_cases_cover_the_required_shapes():
    cases = CASES["conv_shapes"](RNG)
    assert any(c["conv_param.stride"] == 2 for c in cases)
    assert any(c["x"].shape[2] % 2 or c["x"].shape[3] % 2 for c in cases)          # odd sizes
    assert any(c["w"].shape[2] != c["w"].shape[3] for c in cases)                  # non-square filters
    assert {c["x"].dtype for c in cases} == {np.dtype(np.float64), np.dtype(np.float32)}
    for c in cases:
        H, W = c["x"].shape[2:]
        HH, WW = c["w"].shape[2:]
        s, p = c["conv_param.stride"], c["conv_param.pad"]
        assert (H + 2 * p - HH) % s == 0 and (W + 2 * p - WW) % s == 0
        assert c["dout"].shape == (c["x"].shape[0], c["w"].shape[0], 1 + (H + 2 * p - HH) // s,
                                   1 + (W + 2 * p - WW) // s)


def test_pool_cases_overlap_and_do_not_tile_and_have_no_ties():
    cases = CASES["pool_shapes"](RNG)
    assert any(c["pool_param.stride"] < c["pool_param.pool_height"] for c in cases)  # overlapping
    assert any((c["x"].shape[2] - c["pool_param.pool_height"]) % c["pool_param.stride"] for c in cases)
    for c in cases:
        values = np.sort(c["x"].astype(np.float64).ravel())
        assert np.min(np.diff(values)) > 1e-4  # numerical gradients never cross a tie


def test_cnn_cases_use_non_32_images_and_pairs_of_reg():
    shapes = {tuple(c["init.input_dim"]) for c in CASES["cnn_shapes"](RNG)}
    assert any(s[1:] != (32, 32) for s in shapes) and (3, 32, 32) in shapes
    small = CASES["cnn_small"](RNG)
    assert {"reg0", "reg"} <= set().union(*(tags_of(c) for c in small))
    # the reg > 0 case of a pair has the same data as its reg = 0 case
    assert np.array_equal(small[0]["X"], small[1]["X"]) and small[1]["init.reg"] > 0
    timing = CASES["cnn_cifar_batch50"](RNG)[0]
    assert timing["X"].shape == (50, 3, 32, 32)


def test_softmax_cases_separate_an_epsilon_and_overflow():
    cases = {next(iter(tags_of(c)), "plain"): c for c in CASES["softmax_cases"](RNG)}
    tiny = cases["tiny_probabilities"]
    x, y = tiny["x"], tiny["y"]
    log_p = x - np.log(np.exp(x - x.max(1, keepdims=True)).sum(1, keepdims=True)) - x.max(1, keepdims=True)
    assert log_p[np.arange(len(y)), y].min() < np.log(1e-20)
    assert np.abs(cases["large_scores"]["x"]).max() > 700  # exp overflows float64 unless shifted
