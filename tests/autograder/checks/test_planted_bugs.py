"""One planted bug per diagnosis: the variant loses exactly the points of the
case groups the bug breaks (in proportion: an edge case or a missing feature costs its
group's share, not the item), and the failing items' feedback carries the right hint."""
import pytest

from tests.autograder.checks import support

CONV = "conv_layers.py"
LAYERS = "layers.py"
CNN = "cnn.py"

# name: (edits, {broken item: (hint substring, the groups it fails)})
PLANTED = {
    "regularisation_missing_from_gradient": (
        {CNN: [("grad[block] += reg * W[block]", "pass")]},
        {"cnn.ThreeLayerConvNet.loss.gradient": ("Right with reg = 0 but wrong with reg > 0", ('regularisation',))},
    ),
    "regularisation_wrong_in_loss": (
        {CNN: [("loss = data_loss + 0.5 * reg * sum(", "loss = data_loss + reg * sum(")]},
        {"cnn.ThreeLayerConvNet.loss.forward": ("Right with reg = 0 but wrong with reg > 0", ('regularisation',))},
    ),
    "batchnorm_test_mode_uses_batch_statistics": (
        {LAYERS: [("        std = np.sqrt(running_var + eps)\n",
                   "        running_mean, std = x.mean(axis=0), np.sqrt(x.var(axis=0) + eps)\n")]},
        {"conv_layers.spatial_batchnorm_forward.test_mode": ("equals the train-mode output", ('core', 'float32')),
         "cnn.ThreeLayerConvNet.loss.forward": ("right in train mode (the scores it passes to softmax_loss) but gives wrong scores in test mode", ('batchnorm',))},
    ),
    "batchnorm_running_statistics_never_updated": (
        {LAYERS: [("        running_mean = momentum * running_mean + (1 - momentum) * sample_mean\n"
                   "        running_var = momentum * running_var + (1 - momentum) * sample_var\n", "")]},
        {"conv_layers.spatial_batchnorm_forward.test_mode": ("running statistics are never updated", ('core', 'float32')),
         "cnn.ThreeLayerConvNet.loss.forward": ("running statistics differ after training passes", ('batchnorm',))},
    ),
    "cnn_w2_sized_for_32x32_images_only": (
        {CNN: [("pooled = num_filters * (conv_h // 2) * (conv_w // 2)", "pooled = num_filters * 16 * 16")]},
        {"cnn.ThreeLayerConvNet.loss.forward": ("compute it from input_dim", ('core', 'regularisation', 'batchnorm', 'odd_sizes')),
         "cnn.ThreeLayerConvNet.loss.gradient": ("compute it from input_dim", ('core', 'regularisation', 'batchnorm'))},
    ),
    "cnn_mode_never_switched": (
        {CNN: [("mode = 'test' if y is None else 'train'", "mode = 'train'")]},
        {"cnn.ThreeLayerConvNet.loss.forward": ("right in train mode (the scores it passes to softmax_loss) but gives wrong scores in test mode", ('batchnorm',))},
    ),
    "softmax_fudge_epsilon": (
        {LAYERS: [("loss = -log_probs[rows, y].sum() / N",
                   "loss = -np.log(exp_shifted[rows, y] / sum_exp[:, 0] + 1e-12).sum() / N")]},
        {"layers.softmax_loss.loss": ("an epsilon inside the log", ('extreme_scores',))},
    ),
    "softmax_without_shift_gives_nan": (
        {LAYERS: [("shifted = x - x.max(axis=1, keepdims=True)", "shifted = x")]},
        {"layers.softmax_loss.loss": ("NaN appeared in your output", ('extreme_scores',))},
    ),
    "pool_forward_wrong_output_shape": (
        {CONV: [("    out_h = 1 + (H - ph) // stride\n    out_w = 1 + (W - pw) // stride\n"
                 "    out = np.empty(",
                 "    out_h = H // stride\n    out_w = W // stride\n    out = np.empty(")]},
        {"conv_layers.max_pool_forward_naive.forward_secret": ("wrong shape", ('overlapping',))},
    ),
    "conv_backward_bug_in_dw": (
        {CONV: [("dw[f] += dout[n, f, i, j] * xpad[n, :, rows, cols]",
                 "dw[f] += dout[n, f, i, j] * xpad[n, :, rows, cols] * (1 + (i == 0))")]},
        {"conv_layers.conv_backward_naive.gradient":
         ("Your backward disagrees with the numerical gradient of your forward", ('core', 'no_padding', 'wide_padding', 'odd_shapes', 'float32'))},
    ),
    # Flipped filters in both passes: a consistent pair, but not the layer asked for. One bug,
    # charged in the forward items: the backward agrees with the numerical gradient of its own
    # forward (float32 cases have no numerical probes, so there the grader cannot tell).
    "conv_flipped_filters_forward_and_backward": (
        {CONV: [("out[n, f, i, j] = np.sum(window * w[f]) + b[f]",
                 "out[n, f, i, j] = np.sum(window * w[f, :, ::-1, ::-1]) + b[f]"),
                ("dxpad[n, :, rows, cols] += dout[n, f, i, j] * w[f]",
                 "dxpad[n, :, rows, cols] += dout[n, f, i, j] * w[f, :, ::-1, ::-1]"),
                ("dw[f] += dout[n, f, i, j] * xpad[n, :, rows, cols]",
                 "dw[f] += dout[n, f, i, j] * xpad[n, :, rows, cols][:, ::-1, ::-1]")]},
        {"conv_layers.conv_forward_naive.forward": ("out differs", ('all',)),
         "conv_layers.conv_forward_naive.forward_secret": ("out differs", ('core', 'no_padding', 'wide_padding', 'odd_shapes', 'float32')),
         "conv_layers.conv_backward_naive.gradient":
         ("Your backward matches the numerical gradient of your forward, but your forward is wrong", ('float32',))},
    ),
}


def group_points(item_id, names):
    """The points of the named case groups of a spec item (the spec's weights)."""
    item = support.spec().item(item_id)
    return sum(g.share * item.points for g in item.groups if g.name in names)


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_planted_bug_loses_exactly_its_groups_with_the_right_hint(name, tmp_path):
    edits, broken = PLANTED[name]
    results = support.grade(support.variant(tmp_path, edits))
    lost = support.lost_points(results)
    expected_lost = {item_id: group_points(item_id, groups) for item_id, (_, groups) in broken.items()}
    assert lost == pytest.approx(expected_lost), {k: results[k].output for k in set(lost) | set(broken)}
    for item_id, (hint, groups) in broken.items():
        assert results[item_id].status in ("failed", "error"), results[item_id].output
        assert hint in results[item_id].output, results[item_id].output
        charged = {g.name for g in results[item_id].groups if g.status in ("failed", "error")}
        assert charged == set(groups), results[item_id].output


def test_a_write_into_dout_with_right_values_is_a_note_costing_nothing(tmp_path):
    edits = {LAYERS: [("    if dout.ndim == 0:\n        return dout * (x > 0)\n",
                       "    dout[x <= 0] = 0\n    return dout\n")]}
    results = support.grade(support.variant(tmp_path, edits))
    assert support.lost_points(results) == {}
    output = results["layers.relu_backward.gradient"].output
    assert "Note: Side effect: relu_backward wrote into its argument dout" in output, output


def test_the_spec_may_charge_a_side_effect_once(tmp_path):
    import dataclasses
    edits = {LAYERS: [("    if dout.ndim == 0:\n        return dout * (x > 0)\n",
                       "    dout[x <= 0] = 0\n    return dout\n")]}
    item = dataclasses.replace(support.spec().item("layers.relu_backward.gradient"),
                               side_effect_charge=0.25)
    results = support.grade(support.variant(tmp_path, edits), [item])
    assert support.lost_points(results) == {item.id: 0.5}   # a quarter of 2 points, once
    assert "the spec charges that 0.5 of the 2 points" in results[item.id].output


def test_float64_output_for_float32_inputs_costs_nothing_but_is_noted(tmp_path):
    # the classic template's np.zeros(shape): exact values in float64 for the float32 case
    edits = {CONV: [("out = np.zeros((N, F, out_h, out_w), dtype=np.result_type(x, w, b))",
                     "out = np.zeros((N, F, out_h, out_w))")]}
    results = support.grade(support.variant(tmp_path, edits))
    assert support.lost_points(results) == {}
    output = results["conv_layers.conv_forward_naive.forward_secret"].output
    assert "Note: out has dtype float64 where the reference returns float32" in output


def test_float16_output_for_float32_inputs_fails_on_its_values(tmp_path):
    # a dtype that loses precision is judged by the values it gives, at the float32 tolerance
    edits = {CONV: [("out = np.zeros((N, F, out_h, out_w), dtype=np.result_type(x, w, b))",
                     "out = np.zeros((N, F, out_h, out_w), dtype=np.float16)")]}
    results = support.grade(support.variant(tmp_path, edits))
    item = "conv_layers.conv_forward_naive.forward_secret"
    assert item in support.lost_points(results)
    assert "out differs from the expected values" in results[item].output
    assert "core: 0/4 points" in results[item].output   # float16 loses precision everywhere


def test_debug_printing_costs_nothing_but_is_noted(tmp_path):
    edits = {CONV: [("                    window = xpad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]\n",
                     "                    window = xpad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]\n"
                     "                    print('window', n, f, i, j)\n")]}
    results = support.grade(support.variant(tmp_path, edits))
    assert support.lost_points(results) == {}
    output = results["conv_layers.conv_forward_naive.forward"].output
    assert "Your code printed" in output and "window 0 0 0 0" in output


def test_printing_beyond_the_output_cap_fails_the_item(tmp_path):
    edits = {CONV: [("    N, C, H, W = x.shape\n    F, _, HH, WW = w.shape\n    if (H",
                     "    N, C, H, W = x.shape\n    print('x' * 300000)\n    F, _, HH, WW = w.shape\n    if (H")]}
    results = support.grade(support.variant(tmp_path, edits))
    lost = support.lost_points(results)
    # every item that runs the forward: the two forward items and the gradient item
    assert set(lost) == {"conv_layers.conv_forward_naive.forward",
                         "conv_layers.conv_forward_naive.forward_secret",
                         "conv_layers.conv_backward_naive.gradient"}
    assert "output cap" in results["conv_layers.conv_forward_naive.forward"].output


def test_outputs_hard_coded_from_the_notebook_earn_nothing(tmp_path):
    from autograder.checks.cases import conv_forward_fixed
    case = conv_forward_fixed(None)[0]
    conv = support.reference()["conv_layers"]
    expected, _ = conv.conv_forward_naive(case["x"], case["w"], case["b"],
                                          {"stride": 2, "pad": 1})
    hack = ("    if x.shape == (2, 3, 4, 4) and w.shape == (3, 3, 4, 4):\n"
            "        return np.array(%r), (x, w, b, conv_param)\n" % expected.tolist())
    folder = support.variant(tmp_path, {"conv_layers.py": [
        ("    out = None\n    pad = whole_number(conv_param['pad'], \"conv_param['pad']\")\n",
         "    out = None\n" + hack + "    pad = whole_number(conv_param['pad'], \"conv_param['pad']\")\n")]})
    results = support.grade(folder)
    item = "conv_layers.conv_forward_naive.forward"
    assert support.lost_points(results) == {item: results[item].max_score}
    assert "Right on the notebook's inputs only" in results[item].output
    assert "Case 1 of 2" not in results[item].output  # the fixed case itself passes


def test_pool_backward_spreading_dout_over_the_window_is_named(tmp_path):
    # every entry of a window gets its dout, not only the maximum
    edits = {CONV: [("            np.add.at(dx, (n_idx, c_idx, rows, cols), dout[:, :, i, j])",
                     "            dx[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw] += "
                     "dout[:, :, i, j][:, :, None, None]")]}
    results = support.grade(support.variant(tmp_path, edits))
    item = "conv_layers.max_pool_backward_naive.gradient"
    assert set(support.lost_points(results)) == {item}
    assert "goes only to the entry that was the window's maximum" in results[item].output


def test_batchnorm_without_eps_is_named(tmp_path):
    edits = {LAYERS: [("        inv_std = 1.0 / np.sqrt(sample_var + eps)",
                       "        inv_std = 1.0 / np.sqrt(sample_var)")]}
    results = support.grade(support.variant(tmp_path, edits))
    lost = set(support.lost_points(results))
    item = "conv_layers.spatial_batchnorm_forward.train"
    # what uses train-mode batchnorm may lose; nothing else
    assert item in lost and lost <= {item, "conv_layers.spatial_batchnorm_backward.gradient",
                                     "cnn.ThreeLayerConvNet.loss.forward",
                                     "cnn.ThreeLayerConvNet.loss.gradient"}, lost
    assert "batch normalisation without eps" in results[item].output, results[item].output


def test_batchnorm_with_the_unbiased_variance_is_named(tmp_path):
    edits = {LAYERS: [("        sample_var = (squares - sums * sums / N) / N",
                       "        sample_var = (squares - sums * sums / N) / (N - 1)")]}
    results = support.grade(support.variant(tmp_path, edits))
    item = "conv_layers.spatial_batchnorm_forward.train"
    assert item in support.lost_points(results)
    assert "unbiased variance" in results[item].output, results[item].output
