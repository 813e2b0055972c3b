"""Named input cases: CASES[name](rng) -> list of case dicts.

A case is a flat dict of plain arrays and scalars (see checks/calls.py for how
keys become arguments), so it can be written to .npz and JSON for the sandbox.
Metadata keys start with "_": "_label" (shown to students) and "_tags"
(comma-separated, read by the diagnosis rules: "reg", "reg0", "float32",
"tiny_probabilities", "large_scores", "batchnorm").

The grader draws rng from a secret per-run seed, so outputs hard-coded from the
notebook earn nothing; the *_fixed builders ignore rng and reproduce the
notebook's fixed inputs. Inputs avoid ties and kinks (distinct values in every
pooling window, no ReLU input near 0) so numerical gradients are well defined
and every correct tie-breaking rule gives the same answer.
"""
import numpy as np

F64, F32 = np.float64, np.float32


def _label(case, label, tags=()):
    case["_label"] = label
    case["_tags"] = ",".join(tags)
    return case


def _distinct(rng, shape, low=-1.0, high=1.0, dtype=F64):
    """Values spread evenly over [low, high] in random order: any two differ by a clear gap."""
    n = int(np.prod(shape))
    grid = np.linspace(low, high, n)
    jitter = rng.uniform(-0.2, 0.2, n) * (high - low) / max(n - 1, 1)
    return (grid + jitter)[rng.permutation(n)].reshape(shape).astype(dtype)


def _away_from_zero(rng, shape, margin=1e-2, dtype=F64):
    x = rng.standard_normal(shape)
    x = np.where(np.abs(x) < margin, np.sign(x + 1e-300) * margin * 2, x)
    return x.astype(dtype)


# ---- convolution --------------------------------------------------------------------------

def conv_forward_fixed(rng):
    x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, num=3)
    return [_label({"x": x, "w": w, "b": b, "conv_param.stride": 2, "conv_param.pad": 1},
                   "the notebook's fixed inputs (x 2x3x4x4, w 3x3x4x4, stride 2, pad 1)", ("fixed",))]


def conv_notebook_shape(rng):
    """The notebook's shapes (x 2x3x4x4, w 3x3x4x4, stride 2, pad 1) with fresh random values:
    with the fixed case in one item, outputs hard-coded from the notebook earn nothing."""
    case = {"x": rng.standard_normal((2, 3, 4, 4)), "w": rng.standard_normal((3, 3, 4, 4)) / 7.0,
            "b": rng.standard_normal(3), "conv_param.stride": 2, "conv_param.pad": 1}
    return [_label(case, "the notebook's shapes with other values")]


# The convolution cases by case group (the spec's groups name these builders): core is the
# homework's own configuration (3x3 filters with pad 1 and stride 1, the notebook's 4x4
# filters with stride 2 and pad 1); each other group moves one thing away from it.
# (N, C, H, W), (F, HH, WW), stride, pad, dtype, what the case is about
_CONV_GROUPS = {
    "core": (
        ((2, 3, 5, 5), (3, 3, 3), 1, 1, F64, "3x3 filters, stride 1, pad 1, odd 5x5 input"),
        ((2, 3, 8, 8), (4, 3, 3), 1, 1, F64, "3x3 filters, stride 1, pad 1, 8x8 input"),
        ((2, 3, 6, 6), (3, 4, 4), 2, 1, F64, "the notebook's 4x4 filters, stride 2, pad 1"),
    ),
    "no_padding": (
        ((1, 2, 6, 9), (2, 2, 3), 2, 0, F64, "no padding (pad 0), stride 2, 2x3 filter, 6x9 input"),
        ((2, 3, 5, 5), (3, 3, 3), 1, 0, F64, "no padding (pad 0), 3x3 filters, stride 1"),
    ),
    "wide_padding": (
        ((3, 2, 4, 6), (2, 3, 3), 1, 2, F64, "pad 2, 4x6 input, 3x3 filter"),
    ),
    "odd_shapes": (
        ((2, 3, 7, 5), (4, 3, 5), 2, 1, F64, "stride 2, 7x5 input, non-square 3x5 filter, pad 1"),
        ((1, 3, 9, 9), (2, 2, 2), 3, 1, F64, "stride 3, 2x2 filter, pad 1"),
    ),
    "float32": (
        ((2, 3, 6, 6), (3, 4, 4), 2, 1, F32, "float32, stride 2, 4x4 filter, pad 1"),
    ),
}


def output_size(size, window, stride, pad=0):
    """Output height or width of a convolution or pooling window sliding over `size` pixels."""
    return 1 + (size + 2 * pad - window) // stride


def _conv_cases(rng, group):
    cases = []
    for (N, C, H, W), (F, HH, WW), stride, pad, dtype, what in _CONV_GROUPS[group]:
        out_h, out_w = output_size(H, HH, stride, pad), output_size(W, WW, stride, pad)
        scale = rng.uniform(0.5, 2.0)
        case = {
            "x": (scale * rng.standard_normal((N, C, H, W))).astype(dtype),
            "w": (rng.standard_normal((F, C, HH, WW)) / np.sqrt(C * HH * WW)).astype(dtype),
            "b": rng.standard_normal(F).astype(dtype),
            "conv_param.stride": stride,
            "conv_param.pad": pad,
            "dout": rng.standard_normal((N, F, out_h, out_w)).astype(dtype),
        }
        tags = ("float32",) if dtype == F32 else ()
        cases.append(_label(case, "%s: x %s, w %s" % (what, "x".join(map(str, (N, C, H, W))),
                                                        "x".join(map(str, (F, C, HH, WW)))), tags))
    return cases


# ---- max pooling ---------------------------------------------------------------------------

def pool_forward_fixed(rng):
    x = np.linspace(-0.3, 0.4, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    return [_label({"x": x, "pool_param.pool_height": 2, "pool_param.pool_width": 2,
                    "pool_param.stride": 2},
                   "the notebook's fixed inputs (x 2x3x4x4, 2x2 pools, stride 2)", ("fixed",))]


def pool_notebook_shape(rng):
    """The notebook's pooling shapes with fresh random values (see conv_notebook_shape)."""
    case = {"x": _distinct(rng, (2, 3, 4, 4), -1.0, 1.0), "pool_param.pool_height": 2,
            "pool_param.pool_width": 2, "pool_param.stride": 2}
    return [_label(case, "the notebook's shapes with other values")]


# The pooling cases by case group: core is the homework's 2x2 pools with stride 2 tiling
# the input; overlapping windows (stride < pool size), windows not covering the input,
# and float32 are the other groups.
# (N, C, H, W), (pool_height, pool_width), stride, dtype, what
_POOL_GROUPS = {
    "core": (
        ((2, 3, 4, 4), (2, 2), 2, F64, "2x2 pools, stride 2, tiling the input"),
        ((2, 4, 8, 8), (2, 2), 2, F64, "2x2 pools, stride 2, tiling an 8x8 input"),
    ),
    "overlapping": (
        ((2, 2, 5, 5), (3, 3), 1, F64, "overlapping 3x3 pools, stride 1"),
        ((1, 3, 7, 6), (3, 2), 2, F64, "non-square 3x2 pools, stride 2 (overlapping rows)"),
    ),
    "non_tiling": (
        ((2, 2, 7, 7), (2, 2), 2, F64, "2x2 pools, stride 2, not tiling a 7x7 input"),
        ((1, 2, 9, 7), (3, 3), 3, F64, "3x3 pools, stride 3, not tiling 9x7"),
    ),
    "float32": (
        ((2, 3, 6, 8), (2, 2), 2, F32, "float32, 2x2 pools, stride 2"),
    ),
}


def _pool_cases(rng, group):
    cases = []
    for (N, C, H, W), (ph, pw), stride, dtype, what in _POOL_GROUPS[group]:
        out_h, out_w = output_size(H, ph, stride), output_size(W, pw, stride)
        case = {
            "x": _distinct(rng, (N, C, H, W), -2.0, 2.0, dtype),
            "pool_param.pool_height": ph, "pool_param.pool_width": pw, "pool_param.stride": stride,
            "dout": rng.standard_normal((N, C, out_h, out_w)).astype(dtype),
        }
        tags = ("float32",) if dtype == F32 else ()
        cases.append(_label(case, "%s: x %s" % (what, "x".join(map(str, (N, C, H, W)))), tags))
    return cases


# ---- spatial batch normalisation --------------------------------------------------------------

def _bn_input(rng, shape, dtype, shift=0.0):
    N, C, H, W = shape
    means = rng.uniform(-3, 3, C) + shift
    stds = rng.uniform(0.5, 3.0, C)
    x = means[None, :, None, None] + stds[None, :, None, None] * rng.standard_normal(shape)
    return x.astype(dtype)


def _bn_case(rng, shape, dtype, what, momentum=0.9, eps=1e-5):
    N, C, H, W = shape
    case = {
        "x": _bn_input(rng, shape, dtype),
        "gamma": rng.uniform(0.5, 2.0, C).astype(dtype),
        "beta": rng.uniform(-1.0, 1.0, C).astype(dtype),
        "bn_param.mode": "train",
        "bn_param.eps": eps,
        "bn_param.momentum": momentum,
        "bn_param.running_mean": np.zeros(C, dtype=dtype),
        "bn_param.running_var": np.ones(C, dtype=dtype),
        "dout": rng.standard_normal(shape).astype(dtype),
    }
    tags = ("batchnorm", "float32") if dtype == F32 else ("batchnorm",)
    return _label(case, "%s: x %s" % (what, "x".join(map(str, shape))), tags)


def spatial_bn_train_core(rng):
    return [_bn_case(rng, (4, 3, 5, 5), F64, "train mode"),
            _bn_case(rng, (2, 4, 6, 6), F64, "train mode, 4 channels")]


def spatial_bn_train_odd_shapes(rng):
    return [_bn_case(rng, (2, 4, 3, 7), F64, "train mode, non-square maps"),
            _bn_case(rng, (3, 2, 2, 3), F64, "train mode, small batch, momentum 0.7", momentum=0.7)]


def spatial_bn_train_float32(rng):
    return [_bn_case(rng, (5, 2, 4, 4), F32, "train mode, float32")]


def _bn_test_cases(rng, configurations):
    """Train-mode passes on `warmup.x` batches, then a test-mode pass on x.

    The test batch comes from a shifted distribution, so normalising it with
    its own statistics (mode never switched) is far from the right answer.
    """
    cases = []
    for shape, dtype, warmups in configurations:
        case = _bn_case(rng, shape, dtype, "test mode after %d training passes" % warmups)
        base_means = rng.uniform(-2, 2, shape[1])
        warm = [base_means[None, :, None, None] + rng.uniform(0.5, 2.0, shape[1])[None, :, None, None]
                * rng.standard_normal(shape) for _ in range(warmups)]
        case["warmup.x"] = np.stack(warm).astype(dtype)
        case["x"] = (_bn_input(rng, shape, F64, shift=1.5)).astype(dtype)
        case["bn_param.mode"] = "test"
        del case["dout"]
        cases.append(case)
    return cases


def spatial_bn_test_core(rng):
    return _bn_test_cases(rng, (((4, 3, 4, 4), F64, 6), ((3, 2, 5, 3), F64, 4)))


def spatial_bn_test_float32(rng):
    return _bn_test_cases(rng, (((4, 3, 4, 4), F32, 5),))


# ---- carried-over layers ------------------------------------------------------------------------

def _relu_cases(rng, configurations):
    cases = []
    for shape, dtype in configurations:
        case = {"x": _away_from_zero(rng, shape, dtype=dtype),
                "dout": rng.standard_normal(shape).astype(dtype)}
        tags = ("float32",) if dtype == F32 else ()
        cases.append(_label(case, "x %s %s" % ("x".join(map(str, shape)), np.dtype(dtype).name), tags))
    return cases


def relu_core(rng):
    return _relu_cases(rng, (((3, 4), F64), ((2, 3, 4, 5), F64)))


def relu_float32(rng):
    return _relu_cases(rng, (((5, 6), F32),))


_SOFTMAX_N, _SOFTMAX_C = 8, 10


def softmax_core(rng):
    x = rng.standard_normal((_SOFTMAX_N, _SOFTMAX_C))
    return [_label({"x": x, "y": rng.integers(0, _SOFTMAX_C, _SOFTMAX_N)}, "scores 8x10, float64")]


def softmax_extreme_scores(rng):
    N, C = _SOFTMAX_N, _SOFTMAX_C
    y = rng.integers(0, C, N)
    tiny = rng.standard_normal((N, C))
    # Half the rows put the correct class 60 below the rest (probability ~1e-26), half
    # 60 above (probability 1 to double precision): a fudge epsilon in the log shows.
    rows = np.arange(N)
    tiny[rows, y] += np.where(rows % 2 == 0, -60.0, 60.0)
    large = rng.standard_normal((N, C)) * 5 + np.where(rows % 2 == 0, 1000.0, -1000.0)[:, None]
    return [
        _label({"x": tiny, "y": y}, "scores where the correct class has probability ~1e-26 or ~1",
               ("tiny_probabilities",)),
        _label({"x": large, "y": y}, "large scores (about +-1000: exp overflows unless shifted)",
               ("large_scores",)),
    ]


def softmax_float32(rng):
    x = rng.standard_normal((_SOFTMAX_N, _SOFTMAX_C)).astype(F32)
    return [_label({"x": x, "y": rng.integers(0, _SOFTMAX_C, _SOFTMAX_N)}, "scores 8x10, float32",
                   ("float32",))]


# ---- ThreeLayerConvNet ------------------------------------------------------------------------

def cnn_case(rng, input_dim, N, num_filters, filter_size, hidden_dim, num_classes, reg,
             use_batchnorm, dtype, what, warmups=0, params_from=None, weight_scale=1e-2):
    """One ThreeLayerConvNet case: constructor arguments, parameters, data.

    weight_scale only reaches __init__ (its draws are checked by their statistics; the case's
    parameters replace them), so cases vary it: a hard-coded scale shows.

    Keys: "init.<constructor argument>", "param.<name>", "bn.<i>.running_mean|var",
    "X", "y", and with warmups "warmup.X" (T, N, C, H, W) / "warmup.y".
    """
    C, H, W = input_dim
    pooled = num_filters * (H // 2) * (W // 2)
    case = {
        "init.input_dim": np.array(input_dim, dtype=np.int64),
        "init.num_filters": num_filters, "init.filter_size": filter_size,
        "init.hidden_dim": hidden_dim, "init.num_classes": num_classes,
        "init.weight_scale": float(weight_scale), "init.reg": reg, "init.dtype": np.dtype(dtype).name,
        "init.use_batchnorm": bool(use_batchnorm),
    }
    if params_from is not None:
        case.update({k: v for k, v in params_from.items()
                     if k.startswith(("param.", "bn.", "X", "y", "warmup."))})
    else:
        shapes = {"W1": (num_filters, C, filter_size, filter_size), "b1": (num_filters,),
                  "W2": (pooled, hidden_dim), "b2": (hidden_dim,),
                  "W3": (hidden_dim, num_classes), "b3": (num_classes,)}
        fan_in = {"W1": C * filter_size ** 2, "W2": pooled, "W3": hidden_dim}
        for name, shape in shapes.items():
            if name.startswith("W"):
                value = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in[name])
            else:
                value = rng.uniform(-0.1, 0.1, shape)
            case["param." + name] = value.astype(dtype)
        if use_batchnorm:
            for i, width in ((1, num_filters), (2, hidden_dim)):
                case["param.gamma%d" % i] = rng.uniform(0.7, 1.5, width).astype(dtype)
                case["param.beta%d" % i] = rng.uniform(-0.2, 0.2, width).astype(dtype)
                case["bn.%d.running_mean" % (i - 1)] = rng.uniform(-0.2, 0.2, width).astype(dtype)
                case["bn.%d.running_var" % (i - 1)] = rng.uniform(0.8, 1.5, width).astype(dtype)
        case["X"] = rng.standard_normal((N,) + tuple(input_dim)).astype(dtype)
        case["y"] = rng.integers(0, num_classes, N)
        if warmups:
            case["warmup.X"] = (rng.standard_normal((warmups, N) + tuple(input_dim)) + 0.5).astype(dtype)
            case["warmup.y"] = rng.integers(0, num_classes, (warmups, N))
    tags = ["reg" if reg else "reg0"]
    if use_batchnorm:
        tags.append("batchnorm")
    if np.dtype(dtype) == np.float32:
        tags.append("float32")
    shape = "x".join(map(str, (N,) + tuple(input_dim)))
    return _label(case, "%s: X %s, %d %dx%d filters, hidden %d, %d classes, reg %g%s, %s"
                  % (what, shape, num_filters, filter_size, filter_size, hidden_dim, num_classes,
                     reg, ", batchnorm" if use_batchnorm else "", np.dtype(dtype).name), tags)


# ThreeLayerConvNet's cases by case group. Each group moves one thing away from the core (the
# homework's network on even-sized images, float64, reg 0, no batchnorm), so a bug or a
# missing feature fails its own group only: the batchnorm cases are even-sized with reg 0,
# the odd sizes (where W2 sized with / shows) have no batchnorm, and so on. Weight scales
# other than the usual 1e-2 everywhere: a hard-coded scale shows in the core.

def cnn_forward_core(rng):
    return [
        cnn_case(rng, (3, 32, 32), 2, 4, 7, 10, 10, 0.0, False, F64, "CIFAR-sized, 7x7 filters",
                 weight_scale=1e-3),
        cnn_case(rng, (3, 8, 8), 4, 3, 3, 7, 5, 0.0, False, F64, "8x8 images, 3x3 filters",
                 weight_scale=3e-3),
    ]


def cnn_forward_regularisation(rng):
    return [cnn_case(rng, (3, 8, 8), 3, 3, 3, 6, 4, 0.7, False, F64, "8x8 images",
                     weight_scale=5e-2)]


def cnn_forward_batchnorm(rng):
    return [
        cnn_case(rng, (2, 8, 12), 4, 4, 3, 5, 3, 0.0, True, F64, "batchnorm", warmups=3,
                 weight_scale=2e-2),
        cnn_case(rng, (3, 6, 6), 5, 3, 3, 4, 4, 0.0, True, F64, "6x6 images, batchnorm",
                 warmups=2, weight_scale=1e-1),
    ]


def cnn_forward_odd_sizes(rng):
    return [
        cnn_case(rng, (3, 9, 7), 3, 2, 5, 6, 4, 0.0, False, F64, "odd 9x7 images, 5x5 filters",
                 weight_scale=5e-2),
        cnn_case(rng, (2, 9, 11), 4, 3, 3, 6, 3, 0.0, False, F64, "odd 9x11 images",
                 weight_scale=5e-3),
    ]


def cnn_forward_float32(rng):
    return [cnn_case(rng, (3, 32, 32), 2, 4, 7, 10, 10, 0.0, False, F32, "CIFAR-sized, float32",
                     weight_scale=1e-3)]


def cnn_gradient_core(rng):
    return [cnn_case(rng, (3, 8, 8), 3, 3, 3, 6, 4, 0.0, False, F64, "8x8 images",
                     weight_scale=2e-2)]


def cnn_gradient_regularisation(rng):
    """The core's network and data again with reg > 0 (a case of its own draw, so the group
    stands alone; the regularisation hint compares it with the core case)."""
    plain0 = cnn_case(rng, (3, 8, 8), 3, 3, 3, 6, 4, 0.0, False, F64, "8x8 images",
                      weight_scale=2e-2)
    return [cnn_case(rng, (3, 8, 8), 3, 3, 3, 6, 4, 0.5, False, F64, "8x8 images",
                     params_from=plain0, weight_scale=2e-2)]


def cnn_gradient_batchnorm(rng):
    return [cnn_case(rng, (2, 8, 10), 3, 2, 3, 5, 3, 0.0, True, F64, "8x10 images",
                     weight_scale=5e-3)]


def cnn_cifar_batch50(rng):
    """A batch of 50 CIFAR-sized images for the timing item, with the default architecture."""
    return [cnn_case(rng, (3, 32, 32), 50, 32, 7, 100, 10, 1e-3, False, F32,
                     "batch of 50 CIFAR-sized images, default architecture", weight_scale=1e-3)]


# The Solver's order of calls (cs231n/solver.py): training steps, each followed by a plain SGD
# update written back as a new array (model.params[name] = next_w), with a test-mode pass on the
# validation batch after some of them. Two steps come before the first test pass, so a model
# that ignores the updated self.params (wrong from the second step) and one that loss(X) leaves
# in test mode (wrong from the first step after a test pass) fail at different steps.
SEQUENCE_TEST_AFTER = (False, True, False, True)
SEQUENCE_LEARNING_RATE = 0.1
SEQUENCE_VAL_SIZE = 6


def with_training_sequence(rng, case, test_after=SEQUENCE_TEST_AFTER,
                           learning_rate=SEQUENCE_LEARNING_RATE, val_size=SEQUENCE_VAL_SIZE):
    """
    The case with a training sequence (graded by model_forward like values):

    - "sequence.X" (T, N, C, H, W), "sequence.y" (T, N): the minibatch of each training step;
    - "sequence.test_after" (T,) bool: the steps followed by a test-mode pass;
    - "sequence.X_val" (val_size, C, H, W): the validation batch of every test-mode pass (from
      another distribution than the training batches, so the running statistics matter);
    - "sequence.learning_rate": the SGD step, next_w = w - learning_rate * dw.

    cnn_case's "X", "y" stay (the other model kinds read them; model_forward runs the sequence
    alone) and give the minibatch size and dtype.
    """
    N, dtype = np.asarray(case["X"]).shape[0], np.asarray(case["X"]).dtype
    input_dim = tuple(int(d) for d in case["init.input_dim"])
    num_classes = int(case["init.num_classes"])
    steps = len(test_after)
    case["sequence.X"] = (rng.standard_normal((steps, N) + input_dim) + 0.5).astype(dtype)
    case["sequence.y"] = rng.integers(0, num_classes, (steps, N))
    case["sequence.test_after"] = np.array(test_after, dtype=bool)
    case["sequence.X_val"] = (1.5 * rng.standard_normal((val_size,) + input_dim) - 0.3).astype(dtype)
    case["sequence.learning_rate"] = float(learning_rate)
    return case


def _sequence_label(case):
    """The case's label with what the sequence does."""
    steps = len(case["sequence.test_after"])
    case["_label"] = "%d SGD steps as the Solver makes them, test-mode passes after steps %s; %s" % (
        steps, ", ".join(str(i + 1) for i in np.flatnonzero(case["sequence.test_after"])),
        case["_label"])
    return case


def cnn_training_sequence(rng):
    """Training steps and test-mode passes on one model, without batchnorm (small, even, square
    images: the case isolates state carried between calls from size bugs)."""
    # without batchnorm the hidden units see non-negative pooled features, so a narrow layer
    # often has most units dead for a whole batch: 10 units and 6 images keep several alive
    case = cnn_case(rng, (3, 8, 8), 6, 4, 3, 10, 4, 0.0, False, F64, "minibatches",
                    weight_scale=2e-2)
    return [_sequence_label(with_training_sequence(rng, case))]


def cnn_training_sequence_bn(rng):
    """The training sequence with batchnorm (running statistics and the bn_params' mode); reg 0:
    the penalty has its own group."""
    case = cnn_case(rng, (2, 6, 6), 4, 3, 3, 5, 3, 0.0, True, F64, "minibatches",
                    weight_scale=5e-3)
    return [_sequence_label(with_training_sequence(rng, case))]


def _by_group(builder, group):
    def build(rng):
        return builder(rng, group)
    build.__name__ = "%s_%s" % (builder.__name__.strip("_").replace("_cases", ""), group)
    return build


CASES = {
    "conv_forward_fixed": conv_forward_fixed,
    "conv_notebook_shape": conv_notebook_shape,
    **{"conv_" + group: _by_group(_conv_cases, group) for group in _CONV_GROUPS},
    "pool_forward_fixed": pool_forward_fixed,
    "pool_notebook_shape": pool_notebook_shape,
    **{"pool_" + group: _by_group(_pool_cases, group) for group in _POOL_GROUPS},
    "spatial_bn_train_core": spatial_bn_train_core,
    "spatial_bn_train_odd_shapes": spatial_bn_train_odd_shapes,
    "spatial_bn_train_float32": spatial_bn_train_float32,
    "spatial_bn_test_core": spatial_bn_test_core,
    "spatial_bn_test_float32": spatial_bn_test_float32,
    "relu_core": relu_core,
    "relu_float32": relu_float32,
    "softmax_core": softmax_core,
    "softmax_extreme_scores": softmax_extreme_scores,
    "softmax_float32": softmax_float32,
    "cnn_forward_core": cnn_forward_core,
    "cnn_forward_regularisation": cnn_forward_regularisation,
    "cnn_forward_batchnorm": cnn_forward_batchnorm,
    "cnn_forward_odd_sizes": cnn_forward_odd_sizes,
    "cnn_forward_float32": cnn_forward_float32,
    "cnn_gradient_core": cnn_gradient_core,
    "cnn_gradient_regularisation": cnn_gradient_regularisation,
    "cnn_gradient_batchnorm": cnn_gradient_batchnorm,
    "cnn_cifar_batch50": cnn_cifar_batch50,
    "cnn_training_sequence": cnn_training_sequence,
    "cnn_training_sequence_bn": cnn_training_sequence_bn,
}


def tags_of(case):
    raw = case.get("_tags", "")
    raw = str(np.asarray(raw).reshape(())[()]) if not isinstance(raw, str) else raw
    return set(filter(None, raw.split(",")))


def label_of(case):
    raw = case.get("_label", "")
    return str(np.asarray(raw).reshape(())[()]) if not isinstance(raw, str) else raw
