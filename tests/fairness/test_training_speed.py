"""The student-side speed benchmark (tests/fairness/training_speed.py) runs, prints well-formed
tables with every layout and style, and its "plain" way of running changes no value.
Small shapes and single rounds: nothing here asserts a time."""
import math

import numpy as np
import pytest

from cs231n import fast_layers
from cs231n import threads
from tests.fairness import training_speed as ts
from tests.fairness import variants as v

# Small, but big enough that the conv takes its chunked path and hands back a channels-last
# view (F * (K + 1) * H * W above fast_layers.SMALL_PRODUCT): otherwise "ours" and "plain"
# would run the same layouts and the comparison would prove nothing.
INPUT_DIM = (3, 32, 32)
MODEL = dict(num_filters=16, hidden_dim=20)
BATCH = 4
SMALL_CONV = (("conv small", dict(x=(4, 3, 8, 8), w=(6, 3, 3, 3), stride=1, pad=1)),
              ("conv small chunked", dict(x=(4, 3, 16, 16), w=(32, 3, 3, 3), stride=1, pad=1)))
SMALL_POOL = (("pool small", dict(x=(4, 6, 8, 8), pool=2, stride=2)),)
F32_TOLERANCE = 1e-4  # as the fairness suite's verify.TOLERANCE for float32


@pytest.fixture(scope="module")
def data():
    return ts.random_data(2 * BATCH, INPUT_DIM)


# ---- layouts -------------------------------------------------------------------------------

def test_each_layout_has_the_same_values_in_its_own_memory_order():
    a = np.random.default_rng(0).standard_normal((3, 4, 5, 6)).astype(np.float32)
    made = {name: make(a) for name, make in ts.LAYOUTS.items()}
    for name, array in made.items():
        assert array.dtype == a.dtype and np.array_equal(array, a), name
        assert not np.shares_memory(array, a), name
    assert made["C order"].flags.c_contiguous
    assert made["Fortran order"].flags.f_contiguous and not made["Fortran order"].flags.c_contiguous
    assert made["channels-last"].transpose(0, 2, 3, 1).flags.c_contiguous
    for name in ("sliced batch", "cropped view", "reversed width"):
        array = made[name]
        assert not array.flags.c_contiguous and not array.flags.f_contiguous, name
    assert made["reversed width"].strides[3] < 0
    assert len({made[name].strides for name in made}) == len(made)  # all distinct


@pytest.fixture(params=["one_thread", "sliced"])
def kernel_threads(request, monkeypatch):
    """The compiled kernels on this thread, or cut into slices of the batch on threads."""
    if request.param == "sliced":
        monkeypatch.setattr(threads, "THREADS", 3)
        monkeypatch.setattr(threads, "PARALLEL_MIN_BYTES", 0)
    else:
        monkeypatch.setattr(threads, "THREADS", 1)
    return request.param


@pytest.mark.parametrize("layout", list(ts.LAYOUTS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("pool,stride", [(2, 2), (3, 2)])
def test_every_layout_pools_to_the_c_order_values(layout, dtype, pool, stride, kernel_threads):
    # Small integers: many ties, so the winner must be the same first maximum in every layout.
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, size=(5, 4, 9, 8)).astype(dtype)
    pool_param = {"pool_height": pool, "pool_width": pool, "stride": stride}
    out, cache = fast_layers.max_pool_forward_fast(x, pool_param)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx = fast_layers.max_pool_backward_fast(dout, cache)
    for x_layout in ("C order", layout):  # the backward depends on the forward's path too
        got, got_cache = fast_layers.max_pool_forward_fast(ts.LAYOUTS[x_layout](x), pool_param)
        np.testing.assert_array_equal(got, out)
        got_dx = fast_layers.max_pool_backward_fast(ts.LAYOUTS[layout](dout), got_cache)
        assert got_dx.dtype == dtype
        np.testing.assert_array_equal(got_dx, dx)


@pytest.mark.parametrize("layout", list(ts.LAYOUTS))
def test_every_layout_convolves_to_the_c_order_values(layout, kernel_threads):
    for _, spec in SMALL_CONV:
        x, w, b, conv_param = ts.conv_inputs(spec, np.float64)
        out, cache = fast_layers.conv_forward_fast(x, w, b, conv_param)
        dout = np.random.default_rng(2).standard_normal(out.shape)
        grads = fast_layers.conv_backward_fast(dout, cache)
        got, got_cache = fast_layers.conv_forward_fast(ts.LAYOUTS[layout](x), w, b, conv_param)
        np.testing.assert_allclose(got, out, rtol=1e-12, atol=1e-12)
        for got_grad, grad in zip(fast_layers.conv_backward_fast(ts.LAYOUTS[layout](dout), got_cache),
                                  grads):
            np.testing.assert_allclose(got_grad, grad, rtol=1e-12, atol=1e-12)


def test_the_layout_table_has_every_layout_of_every_pass():
    rows = ts.layout_rows(1, conv_cases=SMALL_CONV, pool_cases=SMALL_POOL)
    ops = {(row.case, row.op) for row in rows}
    # conv: forward and backward; pool: forward and a backward after each forward layout
    assert len(ops) == 2 * len(SMALL_CONV) + 3 * len(SMALL_POOL)
    for case, op in ops:
        layouts = [row.layout for row in rows if (row.case, row.op) == (case, op)]
        assert layouts == list(ts.LAYOUTS), (case, op)
        c_row = next(row for row in rows if (row.case, row.op, row.layout) == (case, op, "C order"))
        assert c_row.ratio == 1.0
        assert c_row.extra_mb == 0.0
    assert all(row.ms > 0 and math.isfinite(row.ratio) and row.argument_mb > 0 for row in rows)
    table = ts.format_layout_table(rows).splitlines()
    assert len(table) == 1 + len(rows)
    for row, line in zip(rows, table[1:]):
        assert line.startswith(row.case) and row.layout in line and ("%.2fx" % row.ratio) in line
        assert ("copies its argument" in line) == row.copies
        assert ("<-" in line) == row.hidden_copy == (row.copies or row.ratio > ts.COPY_RATIO)


def test_the_peak_allocation_sees_a_copy_and_no_view():
    a = np.zeros((64, 1024))  # 0.5 MB
    assert ts.peak_allocation(lambda: a.transpose()) < 1000
    assert ts.peak_allocation(lambda: np.ascontiguousarray(a.T)) >= a.nbytes
    # where the copies are: the layout table's memory column finds the conv's copy of a
    # Fortran-order x (the im2col kernel takes C order) and no copy of a sliced batch
    rows = ts.conv_layout_rows(*SMALL_CONV[1], repeat=1)
    by_layout = {row.layout: row for row in rows if row.op == "forward (x)"}
    assert by_layout["Fortran order"].copies and by_layout["Fortran order"].extra_mb > 0
    pool_rows = ts.pool_layout_rows(*SMALL_POOL[0], repeat=1)
    assert not any(row.copies for row in pool_rows if row.op == "forward (x)")


# ---- plain fast layers ---------------------------------------------------------------------

def test_plain_layers_hand_back_c_order_copies_of_the_same_values():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 16, 16)).astype(np.float32)
    w = rng.standard_normal((64, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    conv_param = {"stride": 1, "pad": 1}
    clock = ts.CopyClock()
    forward = ts.plain_layer(fast_layers.conv_forward_fast, clock)
    backward = ts.plain_layer(fast_layers.conv_backward_fast, clock)
    out, cache = fast_layers.conv_forward_fast(x, w, b, conv_param)
    assert not out.flags.c_contiguous  # the channels-last view the plain layer must undo
    plain_out, plain_cache = forward(x, w, b, conv_param)
    assert plain_out.flags.c_contiguous and np.array_equal(plain_out, out)
    dout = ts.channels_last(rng.standard_normal(out.shape).astype(np.float32))
    grads = fast_layers.conv_backward_fast(dout, cache)
    plain_grads = backward(dout, plain_cache)
    assert isinstance(plain_grads, tuple) and len(plain_grads) == 3
    for plain, grad in zip(plain_grads, grads):
        assert plain.flags.c_contiguous and np.array_equal(plain, grad)
    assert clock.seconds > 0
    pool = ts.plain_layer(fast_layers.max_pool_backward_fast, clock)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    pooled, pool_cache = fast_layers.max_pool_forward_fast(out, pool_param)
    dx = pool(np.ones_like(pooled), pool_cache)
    assert dx.flags.c_contiguous
    assert np.array_equal(dx, fast_layers.max_pool_backward_fast(np.ones_like(pooled), pool_cache))


def test_make_plain_rebinds_the_fast_layers_wherever_the_student_imported_them(tmp_path):
    _, plain, _, rebound = ts.load_style("reference_unchanged", tmp_path)
    assert {"conv_layer_utils.conv_forward_fast", "conv_layer_utils.conv_backward_fast",
            "conv_layer_utils.max_pool_forward_fast",
            "conv_layer_utils.max_pool_backward_fast"} <= set(rebound)
    assert plain["conv_layer_utils"].conv_forward_fast.wrapped is fast_layers.conv_forward_fast
    ours, _, _, rebound = ts.load_style("cnn_direct_layers", tmp_path)
    assert "cnn.conv_forward_fast" in rebound and "cnn.max_pool_backward_fast" in rebound
    assert ours["cnn"].conv_forward_fast is fast_layers.conv_forward_fast  # ours left alone


# ---- student CNNs --------------------------------------------------------------------------

def test_the_styles_are_correct_fairness_variants_that_train():
    assert ts.REFERENCE in ts.STYLES and len(set(ts.STYLES)) == len(ts.STYLES)
    correct = {variant.name for variant in v.CORRECT}
    assert set(ts.STYLES) <= correct
    # every kind of training-path change is covered
    for prefix in ("cnn_", "sbn_", "relu_", "batchnorm_"):
        assert any(name.startswith(prefix) for name in ts.STYLES), prefix


def test_the_style_table_has_every_style(data):
    rows = ts.style_rows(ts.STYLES, 1, batch_size=BATCH, num_train=2 * BATCH,
                         model_kwargs=MODEL, input_dim=INPUT_DIM)
    assert [row.style for row in rows] == list(ts.STYLES)
    for row in rows:
        assert row.ours_ms > 0 and row.plain_ms > 0 and row.reference_ms > 0
        assert 0 <= row.copies_ms <= row.plain_ms
    assert next(r for r in rows if r.style == ts.REFERENCE).vs_reference == 1.0
    table = ts.format_style_table(rows).splitlines()
    assert len(table) == 2 + len(rows)
    for row, line in zip(rows, table[2:]):
        assert line.startswith(row.style) and ("%.2fx" % row.ratio) in line
        assert ("slower than plain" in line) == (row.ratio > ts.SLOWER_RATIO)


def test_the_model_runs_the_channels_last_conv_output():
    C, H, W = INPUT_DIM
    x = np.zeros((BATCH, C, H, W), dtype=np.float32)
    w = np.zeros((MODEL["num_filters"], C, 3, 3), dtype=np.float32)
    out, _ = fast_layers.conv_forward_fast(x, w, np.zeros(MODEL["num_filters"], np.float32),
                                           {"stride": 1, "pad": 1})
    assert out.transpose(0, 2, 3, 1).flags.c_contiguous and not out.flags.c_contiguous


@pytest.mark.parametrize("style", ts.STYLES)
def test_plain_layers_change_no_loss_and_no_gradient(style, data, tmp_path):
    values = ts.step_values(style, tmp_path, data, BATCH, MODEL)
    (loss, grads), (plain_loss, plain_grads) = values["ours"], values["plain"]
    assert np.isfinite(loss) and abs(float(loss) - float(plain_loss)) <= 1e-5 * max(1.0, abs(loss))
    assert sorted(grads) == sorted(plain_grads)
    # Only the summation order may differ (float32 rounding), so the errors are scaled by the
    # step's largest gradient entry: b1 in front of batchnorm is zero but for rounding.
    scale = max(float(np.max(np.abs(g))) for g in grads.values())
    for name in grads:
        assert grads[name].shape == plain_grads[name].shape, name
        error = float(np.max(np.abs(grads[name].astype(np.float64) - plain_grads[name])))
        assert error <= F32_TOLERANCE * scale, (name, error, scale)
