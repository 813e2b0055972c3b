"""The fast layers take arrays in whatever layout and float dtype a student's
code passes (C or Fortran order, channels-last views, strided slices, float32,
float64 or a mix) and give the naive layers' values in the dtype numpy's
promotion rules give, for the chunked (big) and per-image (small) convolutions.

References: the naive layers of nndl.conv_layers on C-contiguous float64
copies. Tolerances: 1e-10 relative when every input is float64, 1e-5 when
float32 takes part (sums of at most a few hundred products); max pooling
forward only moves values, so it is compared exactly.
"""
import functools

import numpy as np
import pytest

from cs231n import fast_layers
from cs231n import threads as threads_module
from nndl import conv_layers as naive


def as_layout(a, layout):
    """The values of the 4-D array a in the named memory layout."""
    if layout == "C":
        return np.ascontiguousarray(a)
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "channels_last":
        return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    if layout == "strided":  # every other entry of a twice-as-wide array
        wide = np.repeat(a, 2, axis=3)
        return wide[:, :, :, ::2]
    if layout == "reversed":  # negative strides along the batch
        return np.ascontiguousarray(a[::-1])[::-1]
    raise ValueError(layout)


LAYOUTS = ["C", "F", "channels_last", "strided", "reversed"]
DTYPES = [  # (x dtype, w and b dtype)
    (np.float32, np.float32),
    (np.float64, np.float64),
    (np.float32, np.float64),
]


@pytest.fixture(params=["one_thread", "sliced"])
def threads(request, monkeypatch):
    """The compiled kernels on the calling thread, or cut into 3 slices of the
    batch on threads however small the batch (the threaded path the real
    sizes take)."""
    if request.param == "sliced":
        monkeypatch.setattr(threads_module, "THREADS", 3)
        monkeypatch.setattr(threads_module, "PARALLEL_MIN_BYTES", 0)
    else:
        monkeypatch.setattr(threads_module, "THREADS", 1)
    return request.param


def rel_err(actual, expected):
    return np.max(np.abs(actual - expected)) / max(np.max(np.abs(expected)), 1e-300)


def tolerance(*dtypes):
    return 1e-10 if all(np.dtype(d) == np.float64 for d in dtypes) else 1e-5


@functools.lru_cache(maxsize=None)
def conv_case(size):
    """Inputs and the naive layers' results for one size (computed once: the loops are slow)."""
    rng = np.random.default_rng(5)
    # per_image: a product small enough for one matmul per image; chunked:
    # big enough for the chunked, channels-last path.
    # 8 images: the chunks (a quarter of the batch) hold 2, which threads can split.
    x_shape, w_shape = (((8, 2, 6, 5), (4, 2, 3, 3)) if size == "per_image"
                        else ((8, 3, 16, 16), (40, 3, 3, 3)))
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    out_ref, cache_ref = naive.conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
    dout = rng.standard_normal(out_ref.shape)
    return x, w, b, dout, (out_ref,) + tuple(naive.conv_backward_naive(dout, cache_ref))


def test_the_chunked_case_takes_the_chunked_path():
    x, w, b, _, _ = conv_case("chunked")
    out, _ = fast_layers.conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    assert not out.flags.c_contiguous  # a channels-last view: the chunked path
    x, w, b, _, _ = conv_case("per_image")
    out, _ = fast_layers.conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    assert out.flags.c_contiguous


@pytest.mark.parametrize("size", ["per_image", "chunked"])
@pytest.mark.parametrize("x_layout", LAYOUTS)
@pytest.mark.parametrize("dout_layout", ["C", "channels_last", "F"])
@pytest.mark.parametrize("x_dtype,w_dtype", DTYPES)
def test_conv_takes_any_layout_and_dtype(size, x_layout, dout_layout, x_dtype, w_dtype,
                                         threads):
    x, w, b, dout, (out_ref, dx_ref, dw_ref, db_ref) = conv_case(size)
    conv_param = {"stride": 1, "pad": 1}
    x_in = as_layout(x.astype(x_dtype), x_layout)
    w_in = as_layout(w.astype(w_dtype), "F" if x_layout == "F" else "C")
    b_in = b.astype(w_dtype)
    out, cache = fast_layers.conv_forward_fast(x_in, w_in, b_in, conv_param)
    expected_dtype = np.result_type(x_dtype, w_dtype)
    assert out.dtype == expected_dtype and out.shape == out_ref.shape
    rtol = tolerance(x_dtype, w_dtype)
    assert rel_err(out, out_ref) < rtol
    dout_in = as_layout(dout.astype(expected_dtype), dout_layout)
    dx, dw, db = fast_layers.conv_backward_fast(dout_in, cache)
    assert dx.dtype == np.dtype(x_dtype) and dw.dtype == np.dtype(w_dtype)
    assert db.dtype == np.dtype(w_dtype)
    for got, want in ((dx, dx_ref), (dw, dw_ref), (db, db_ref)):
        assert got.shape == want.shape
        assert rel_err(got, want) < rtol


@pytest.mark.parametrize("x_layout", LAYOUTS)
@pytest.mark.parametrize("dout_layout", ["C", "channels_last", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,pool,stride", [((3, 4, 8, 6), 2, 2), ((2, 3, 7, 9), 3, 2)])
def test_pool_takes_any_layout_and_dtype(x_layout, dout_layout, dtype, shape, pool, stride,
                                         threads):
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape)
    pool_param = {"pool_height": pool, "pool_width": pool, "stride": stride}
    out_ref, cache_ref = naive.max_pool_forward_naive(x, pool_param)
    dout = rng.standard_normal(out_ref.shape)
    dx_ref = naive.max_pool_backward_naive(dout, cache_ref)

    out, cache = fast_layers.max_pool_forward_fast(as_layout(x.astype(dtype), x_layout),
                                                   pool_param)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, out_ref.astype(dtype))
    dx = fast_layers.max_pool_backward_fast(as_layout(dout.astype(dtype), dout_layout), cache)
    assert dx.dtype == dtype and dx.shape == x.shape
    assert rel_err(dx, dx_ref) < tolerance(dtype)


def test_without_threads_the_kernels_run_inline(monkeypatch):
    # Where no thread can be started (a sandbox's process limit), the pool is
    # given up before any slice is handed out, and the whole batch is done here.
    class NoThreads:
        def __init__(self, max_workers, thread_name_prefix=""):
            pass

        def submit(self, *args):
            raise RuntimeError("can't start new thread")

        def shutdown(self, wait=True):
            pass

    monkeypatch.setattr(threads_module, "ThreadPoolExecutor", NoThreads)
    monkeypatch.setattr(threads_module, "_pools", {})
    monkeypatch.setattr(threads_module, "THREADS", 3)
    monkeypatch.setattr(threads_module, "PARALLEL_MIN_BYTES", 0)
    x, w, b, dout, (out_ref, dx_ref, dw_ref, db_ref) = conv_case("chunked")
    out, cache = fast_layers.conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    dx, dw, db = fast_layers.conv_backward_fast(dout, cache)
    assert threads_module._pools and all(pool is None for pool in threads_module._pools.values())
    for got, want in ((out, out_ref), (dx, dx_ref), (dw, dw_ref), (db, db_ref)):
        assert rel_err(got, want) < 1e-10
