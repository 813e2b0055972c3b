"""cs231n.layer_params.whole_number: the one rule for integer layer parameters, and the naive
(nndl) and fast (cs231n) layers refusing the same values with the same message."""
import math

import numpy as np
import pytest

from cs231n import fast_layers
from cs231n.layer_params import whole_number
from nndl import conv_layers as naive


@pytest.mark.parametrize("value", [3, 3.0, np.int64(3), np.float32(3.0), np.array(3.0)])
def test_integral_values_become_ints(value):
    result = whole_number(value, "stride")
    assert result == 3 and type(result) is int


@pytest.mark.parametrize("value", [2.5, math.nan, math.inf, -math.inf, None, "3",
                                   np.array([1, 2]), 1e-9 + 3])
def test_anything_else_is_refused_naming_the_parameter(value):
    with pytest.raises(ValueError, match=r"^pool_param\['stride'\] must be a whole number, got "):
        whole_number(value, "pool_param['stride']")


X = np.zeros((1, 1, 4, 4))
W = np.zeros((1, 1, 3, 3))
B = np.zeros(1)
BAD_CONV = [{"stride": 1, "pad": 1.5}, {"stride": math.nan, "pad": 1}, {"stride": 1, "pad": None},
            {"stride": math.inf, "pad": 1}]
BAD_POOL = [{"pool_height": 2, "pool_width": 2, "stride": 1.5},
            {"pool_height": None, "pool_width": 2, "stride": 2},
            {"pool_height": 2, "pool_width": "2", "stride": 2}]


def _message(call):
    with pytest.raises(ValueError) as raised:
        call()
    return str(raised.value)


@pytest.mark.parametrize("conv_param", BAD_CONV)
def test_naive_and_fast_conv_say_the_same(conv_param):
    naive_says = _message(lambda: naive.conv_forward_naive(X, W, B, conv_param))
    assert "must be a whole number" in naive_says
    assert naive_says == _message(lambda: fast_layers.conv_forward_fast(X, W, B, conv_param))


@pytest.mark.parametrize("pool_param", BAD_POOL)
def test_naive_and_fast_pool_say_the_same(pool_param):
    naive_says = _message(lambda: naive.max_pool_forward_naive(X, pool_param))
    assert naive_says.startswith("pool_param[") and "must be a whole number" in naive_says
    assert naive_says == _message(lambda: fast_layers.max_pool_forward_fast(X, pool_param))


def test_integral_floats_give_the_same_output_as_ints():
    x = np.arange(2 * 1 * 5 * 5, dtype=float).reshape(2, 1, 5, 5)
    w = np.ones((2, 1, 3, 3))
    b = np.array([0.5, -1.0])
    as_ints, _ = naive.conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})
    as_floats, _ = naive.conv_forward_naive(x, w, b, {"stride": 2.0, "pad": np.float32(1.0)})
    assert as_ints.shape == (2, 2, 3, 3) and np.array_equal(as_ints, as_floats)
