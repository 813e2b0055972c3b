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


def _all(prefix):
    return [c for name in CASES if name.startswith(prefix) for c in CASES[name](RNG)]


def test_conv_cases_cover_the_required_shapes():
    cases = _all("conv_")
    cases = [c for c in cases if "dout" in c]
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


def test_conv_groups_each_move_one_thing_from_the_core():
    """core: pad 1 (3x3 stride 1, the notebook's 4x4 stride 2), float64; every pad 0 case is in
    no_padding, every pad 2 in wide_padding, every float32 in float32."""
    core = CASES["conv_core"](RNG)
    assert all(c["conv_param.pad"] == 1 and c["x"].dtype == np.float64 for c in core)
    assert any(c["w"].shape[2:] == (3, 3) and c["conv_param.stride"] == 1 for c in core)
    assert all(c["conv_param.pad"] == 0 for c in CASES["conv_no_padding"](RNG))
    assert all(c["conv_param.pad"] == 2 for c in CASES["conv_wide_padding"](RNG))
    assert all(c["x"].dtype == np.float32 for c in CASES["conv_float32"](RNG))
    others = CASES["conv_odd_shapes"](RNG) + CASES["conv_wide_padding"](RNG) + core
    assert all(c["conv_param.pad"] > 0 for c in others)


def test_pool_cases_overlap_and_do_not_tile_and_have_no_ties():
    cases = [c for c in _all("pool_") if "dout" in c]
    assert any(c["pool_param.stride"] < c["pool_param.pool_height"] for c in cases)  # overlapping
    assert any((c["x"].shape[2] - c["pool_param.pool_height"]) % c["pool_param.stride"] for c in cases)
    for c in cases:
        values = np.sort(c["x"].astype(np.float64).ravel())
        assert np.min(np.diff(values)) > 1e-4  # numerical gradients never cross a tie


def test_pool_groups_isolate_overlap_and_tiling():
    def overlaps(c):
        return c["pool_param.stride"] < max(c["pool_param.pool_height"], c["pool_param.pool_width"])

    def tiles(c):
        H, W = c["x"].shape[2:]
        s = c["pool_param.stride"]
        return (H - c["pool_param.pool_height"]) % s == 0 and (W - c["pool_param.pool_width"]) % s == 0
    assert all(not overlaps(c) and tiles(c) for c in CASES["pool_core"](RNG) + CASES["pool_float32"](RNG))
    assert all(overlaps(c) and tiles(c) for c in CASES["pool_overlapping"](RNG))
    assert all(not overlaps(c) and not tiles(c) for c in CASES["pool_non_tiling"](RNG))


def test_cnn_groups_isolate_batchnorm_regularisation_and_odd_sizes():
    """A network without batchnorm, without the penalty or with W2 sized by / fails one group."""
    for name in CASES:
        if not name.startswith(("cnn_forward_", "cnn_gradient_")):
            continue
        for case in CASES[name](RNG):
            tags = tags_of(case)
            H, W = case["init.input_dim"][1:]
            assert ("batchnorm" in tags) == name.endswith("_batchnorm"), name
            assert ("reg" in tags) == name.endswith("_regularisation"), name
            assert (H % 2 == 1 or W % 2 == 1) == name.endswith("_odd_sizes"), name
            assert (case["X"].dtype == np.float32) == name.endswith("_float32"), name
    shapes = {tuple(c["init.input_dim"]) for c in _all("cnn_forward_")}
    assert (3, 32, 32) in shapes
    timing = CASES["cnn_cifar_batch50"](RNG)[0]
    assert timing["X"].shape == (50, 3, 32, 32)


def test_softmax_cases_separate_an_epsilon_and_overflow():
    cases = {next(iter(tags_of(c)), "plain"): c for c in CASES["softmax_extreme_scores"](RNG)}
    tiny = cases["tiny_probabilities"]
    x, y = tiny["x"], tiny["y"]
    log_p = x - np.log(np.exp(x - x.max(1, keepdims=True)).sum(1, keepdims=True)) - x.max(1, keepdims=True)
    assert log_p[np.arange(len(y)), y].min() < np.log(1e-20)
    assert np.abs(cases["large_scores"]["x"]).max() > 700  # exp overflows float64 unless shifted
