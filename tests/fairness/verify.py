"""Check each variant's label against the reference, without the grader.

For every graded item a variant's replaced code can reach, `item_errors` runs
the variant and the reference on inputs drawn like the grader's cases (the
shapes, strides, pads, dtypes, batchnorm modes and CNN configurations of
autograder/checks/cases.py, drawn here by our own code) and returns the largest
scaled error (inf for a crash or a shape mismatch). A correct variant must agree
on every reached item and its backward passes must match numerical gradients of
its own forward (tests/nndl/gradients.py); a bug must show on every item it must
lose (error above BUG_VISIBLE, far above the grader's tolerances) and stay
within the tolerance on every item it must keep.

Every input belongs to one of the item's case groups (variants.GROUPS; "all" for an
item without groups), one group varying one thing from the core configuration. A bug
labelled `confined_to` / `feature` must show in those groups of every item it must
lose and agree with the reference, within the grader's tolerance of the item (read
from the spec, autograder/spec/grading.toml, as data), on every other group of every
item it reaches.

Nothing here imports autograder: the variant and the reference are loaded as
plain `nndl` packages from their folders.
"""
import importlib
import math
import sys
import tomllib
from collections import namedtuple
from pathlib import Path

import numpy as np

from tests.fairness import build
from tests.fairness import variants as v
from tests.nndl import gradients

MODULES = ("layers", "layer_utils", "conv_layers", "conv_layer_utils", "cnn")
F64, F32 = np.float64, np.float32
TOLERANCE = {F64: 1e-9, F32: 1e-4}   # agreement of a correct variant (scaled error)
BUG_VISIBLE = 1e-5                     # a bug's error on some input, at least
NUMERIC_TOLERANCE = 1e-6
SPEC = build.REPO_ROOT / "autograder" / "spec" / "grading.toml"


def _spec_tolerances():
    """({item: float64 tolerance}, float32 tolerance) of the grader's spec; ({}, 1e-4) without it."""
    try:
        spec = tomllib.loads(SPEC.read_text())
    except (OSError, ValueError):
        return {}, TOLERANCE[F32]
    items = {entry["id"]: float(entry["tolerance"]) for entry in spec.get("item", [])
             if "tolerance" in entry}
    return items, float(spec.get("settings", {}).get("float32_tolerance", TOLERANCE[F32]))


SPEC_TOLERANCES = _spec_tolerances()


def grader_tolerance(item, dtype):
    """The grader's tolerance for a case of the item in dtype (the looser one for float32);
    verify's own (stricter) tolerance where the spec names none."""
    items, float32 = SPEC_TOLERANCES
    tolerance = items.get(item, TOLERANCE[F64])
    return max(tolerance, float32) if dtype == F32 else tolerance

# Which items a replaced definition can reach (through the layers that call it).
REACHES = {
    "conv_forward_naive": (v.CONV_F, v.CONV_FS, v.CONV_B),
    "conv_backward_naive": (v.CONV_B,),
    "max_pool_forward_naive": (v.POOL_F, v.POOL_FS, v.POOL_B),
    "max_pool_backward_naive": (v.POOL_B,),
    "spatial_batchnorm_forward": (v.BN_TRAIN, v.BN_TEST, v.BN_B, v.CNN_F, v.CNN_G),
    "spatial_batchnorm_backward": (v.BN_B, v.CNN_G),
    "batchnorm_forward": (v.BN_TRAIN, v.BN_TEST, v.BN_B, v.CNN_F, v.CNN_G),
    "batchnorm_backward": (v.BN_B, v.CNN_G),
    "relu_forward": (v.RELU_B, v.CNN_F, v.CNN_G),
    "relu_backward": (v.RELU_B, v.CNN_G),
    "softmax_loss": (v.SOFTMAX, v.CNN_F, v.CNN_G),
    "ThreeLayerConvNet": (v.CNN_F, v.CNN_G),
}


# ---- loading ---------------------------------------------------------------------------------

def load_nndl(folder):
    """{module name: module} of the nndl package in folder/nndl, imported under the name nndl
    and then taken out of sys.modules again (the functions keep their own globals)."""
    folder = str(Path(folder).resolve())
    saved = {k: m for k, m in sys.modules.items() if k == "nndl" or k.startswith("nndl.")}
    for k in saved:
        del sys.modules[k]
    sys.path.insert(0, folder)
    try:
        importlib.invalidate_caches()
        return {name: importlib.import_module("nndl." + name) for name in MODULES}
    finally:
        sys.path.remove(folder)
        for k in [k for k in sys.modules if k == "nndl" or k.startswith("nndl.")]:
            del sys.modules[k]
        sys.modules.update(saved)


def reached_items(variant):
    names = {name for _, source in variant.replaces for name in build.defined_names(source)}
    return sorted({item for name in names for item in REACHES.get(name, ())}, key=v.ITEMS.index)


# ---- comparing -------------------------------------------------------------------------------

class Differs(Exception):
    """A structural difference (shape, missing key, crash): an infinite error."""


def scaled_error(a, b, floor=1e-12):
    """max |a - b| / max(max |b|, floor) in float64; inf if the shapes differ or a is not finite."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return math.inf
    if not np.all(np.isfinite(a)):
        return math.inf
    return float(np.max(np.abs(a - b), initial=0.0) / max(np.max(np.abs(b), initial=0.0), floor))


def _weight(error, dtype):
    """The error as a fraction of the tolerance of the case's dtype (<= 1: agreement)."""
    return error / TOLERANCE[dtype]


# The worst input of a group: error / verify's tolerance, the error, its label, and
# error / the grader's tolerance of the item (<= 1: the grader passes the group).
Verdict = namedtuple("Verdict", "weight error label grader_weight")
AGREES = Verdict(0.0, 0.0, "", 0.0)


def _run(checks, item=None):
    """{group: worst Verdict} over checks yielding (dtype, label, error), each check carrying
    its case group (`check.group`, "all" if none); a check that raises (the variant crashed,
    or Differs) counts as an infinite error."""
    worst = {}
    for check in checks:
        group = getattr(check, "group", "all")
        try:
            results = list(check())
        except Exception as exc:   # a crash of the variant: the item cannot be passed
            results = [(F64, "%s: %s: %s" % (getattr(check, "label", ""), type(exc).__name__, exc),
                        math.inf)]
        current = worst.setdefault(group, AGREES)
        for dtype, label, error in results:
            verdict = Verdict(_weight(error, dtype), error, label,
                              error / grader_tolerance(item, dtype))
            if verdict.weight > current.weight:
                current = verdict
        worst[group] = current
    return worst


def _overall(by_group):
    """The worst Verdict over an item's groups."""
    return max(by_group.values(), key=lambda verdict: verdict.weight, default=AGREES)


# ---- inputs like the grader's ----------------------------------------------------------------

# Each input's last field is its case group (variants.GROUPS): one thing varied from the core.
# (N, C, H, W), (F, HH, WW), stride, pad, dtype, group
CONV_NOTEBOOK = [((2, 3, 4, 4), (3, 4, 4), 2, 1, F64, "all")]
CONV_SECRET = [((2, 3, 5, 5), (3, 3, 3), 1, 1, F64, "core"), ((2, 3, 4, 4), (3, 4, 4), 2, 1, F64, "core"),
               ((2, 3, 7, 5), (4, 3, 5), 2, 1, F64, "odd_shapes"),
               ((1, 3, 7, 9), (2, 3, 2), 3, 1, F64, "odd_shapes"),
               ((1, 2, 6, 9), (2, 2, 3), 2, 0, F64, "no_padding"),
               ((1, 3, 8, 8), (2, 2, 2), 3, 0, F64, "no_padding"),
               ((3, 2, 4, 6), (2, 3, 3), 1, 2, F64, "wide_padding"),
               ((2, 3, 6, 6), (3, 4, 4), 2, 1, F32, "float32")]
# (N, C, H, W), (pool height, pool width), stride, dtype, group
POOL_NOTEBOOK = [((2, 3, 4, 4), (2, 2), 2, F64, "all")]
POOL_SECRET = [((2, 3, 4, 4), (2, 2), 2, F64, "core"), ((2, 2, 5, 5), (3, 3), 1, F64, "overlapping"),
               ((1, 3, 7, 6), (3, 2), 2, F64, "overlapping"), ((2, 2, 7, 7), (2, 2), 2, F64, "non_tiling"),
               ((1, 2, 9, 7), (3, 3), 3, F64, "non_tiling"), ((2, 3, 6, 8), (2, 2), 2, F32, "float32")]
BN_TRAIN_CASES = [((4, 3, 5, 5), F64, 0.9, "core"), ((2, 4, 3, 7), F64, 0.9, "odd_shapes"),
                  ((3, 2, 2, 3), F64, 0.7, "odd_shapes"), ((5, 2, 4, 4), F32, 0.9, "float32")]
BN_TEST_CASES = [((4, 3, 4, 4), F64, 6, "core"), ((3, 2, 5, 3), F64, 4, "core"),
                 ((4, 3, 4, 4), F32, 5, "float32")]
# (group, (input_dim, N, filters, filter size, hidden, classes, reg, batchnorm, dtype)): the core
# is even sizes, reg 0, no batchnorm, float64; every other group varies one of them (the
# batchnorm group also holds a float32 batchnorm case). MIXED inputs vary several at once:
# they hold correct variants and the items' verdicts to account, but no group label (the
# grader's group for such a case is not ours to say). The gradient item takes the float64
# cases of its groups (core, regularisation, batchnorm) and the mixed ones.
MIXED = "mixed"
CNN_CASES = [("core", ((3, 10, 8), 4, 3, 3, 7, 5, 0.0, False, F64)),
             ("core", ((3, 8, 8), 3, 3, 3, 6, 4, 0.0, False, F64)),
             ("regularisation", ((3, 8, 8), 3, 3, 3, 6, 4, 0.5, False, F64)),
             ("regularisation", ((3, 10, 8), 4, 2, 5, 6, 4, 0.7, False, F64)),
             ("batchnorm", ((2, 8, 12), 4, 4, 3, 5, 3, 0.0, True, F64)),
             ("batchnorm", ((3, 6, 6), 5, 3, 3, 4, 4, 0.0, True, F64)),
             ("batchnorm", ((2, 8, 10), 4, 3, 3, 6, 3, 0.0, True, F32)),
             ("odd_sizes", ((3, 9, 7), 3, 2, 5, 6, 4, 0.0, False, F64)),
             ("odd_sizes", ((3, 7, 7), 5, 3, 3, 4, 4, 0.0, False, F64)),
             ("float32", ((3, 32, 32), 2, 4, 7, 10, 10, 0.0, False, F32)),
             ("float32", ((2, 8, 10), 4, 3, 3, 6, 3, 0.0, False, F32)),
             (MIXED, ((2, 7, 9), 3, 2, 3, 5, 3, 0.3, True, F64)),
             (MIXED, ((2, 9, 11), 4, 3, 3, 6, 3, 0.2, True, F32))]


def distinct(rng, shape, dtype=F64, low=-2.0, high=2.0):
    """Values a clear gap apart in random order (no ties in pooling windows)."""
    n = int(np.prod(shape))
    return rng.permutation(np.linspace(low, high, n)).reshape(shape).astype(dtype)


def away_from_zero(rng, shape, dtype=F64):
    x = rng.standard_normal(shape)
    return (np.sign(x) * (np.abs(x) + 0.05)).astype(dtype)


def bn_input(rng, shape, dtype, shift=0.0):
    C = shape[1]
    means = rng.uniform(-3, 3, C) + shift
    stds = rng.uniform(0.5, 3.0, C)
    return (means[None, :, None, None] + stds[None, :, None, None] * rng.standard_normal(shape)).astype(dtype)


def bn_param(C, dtype, momentum=0.9, mode="train"):
    return {"mode": mode, "eps": 1e-5, "momentum": momentum,
            "running_mean": np.zeros(C, dtype=dtype), "running_var": np.ones(C, dtype=dtype)}


# ---- per-item checks: each yields (dtype, label, scaled error) -------------------------------

def _labelled(label, group="all"):
    def mark(fn):
        fn.label = label
        fn.group = group
        return fn
    return mark


def conv_forward_checks(S, R, rng, configs):
    def make(cfg):
        (N, C, H, W), (F, HH, WW), stride, pad, dtype, group = cfg

        @_labelled("conv forward %s" % (cfg[:-1],), group)
        def check():
            x = rng.standard_normal((N, C, H, W)).astype(dtype)
            w = (rng.standard_normal((F, C, HH, WW)) / np.sqrt(C * HH * WW)).astype(dtype)
            b = rng.standard_normal(F).astype(dtype)
            param = {"stride": stride, "pad": pad}
            expected, _ = R["conv_layers"].conv_forward_naive(x, w, b, dict(param))
            got, _ = S["conv_layers"].conv_forward_naive(x, w, b, dict(param))
            yield dtype, check.label, scaled_error(got, expected)
        return check
    return [make(cfg) for cfg in configs]


def conv_backward_checks(S, R, rng):
    def make(cfg):
        (N, C, H, W), (F, HH, WW), stride, pad, dtype, group = cfg

        @_labelled("conv backward %s" % (cfg[:-1],), group)
        def check():
            x = rng.standard_normal((N, C, H, W)).astype(dtype)
            w = (rng.standard_normal((F, C, HH, WW)) / np.sqrt(C * HH * WW)).astype(dtype)
            b = rng.standard_normal(F).astype(dtype)
            param = {"stride": stride, "pad": pad}
            out, cache = R["conv_layers"].conv_forward_naive(x, w, b, dict(param))
            dout = rng.standard_normal(out.shape).astype(dtype)
            expected = R["conv_layers"].conv_backward_naive(dout, cache)
            _, s_cache = S["conv_layers"].conv_forward_naive(x, w, b, dict(param))
            got = S["conv_layers"].conv_backward_naive(dout, s_cache)
            for name, g, e in zip(("dx", "dw", "db"), got, expected):
                yield dtype, "%s %s" % (check.label, name), scaled_error(g, e)
        return check
    return [make(cfg) for cfg in CONV_SECRET]


def pool_forward_checks(S, R, rng, configs):
    def make(cfg):
        shape, (ph, pw), stride, dtype, group = cfg

        @_labelled("pool forward %s" % (cfg[:-1],), group)
        def check():
            x = distinct(rng, shape, dtype)
            param = {"pool_height": ph, "pool_width": pw, "stride": stride}
            expected, _ = R["conv_layers"].max_pool_forward_naive(x, dict(param))
            got, _ = S["conv_layers"].max_pool_forward_naive(x, dict(param))
            yield dtype, check.label, scaled_error(got, expected)
        return check
    return [make(cfg) for cfg in configs]


def pool_backward_checks(S, R, rng):
    def make(cfg):
        shape, (ph, pw), stride, dtype, group = cfg

        @_labelled("pool backward %s" % (cfg[:-1],), group)
        def check():
            x = distinct(rng, shape, dtype)
            param = {"pool_height": ph, "pool_width": pw, "stride": stride}
            out, cache = R["conv_layers"].max_pool_forward_naive(x, dict(param))
            dout = rng.standard_normal(out.shape).astype(dtype)
            expected = R["conv_layers"].max_pool_backward_naive(dout, cache)
            _, s_cache = S["conv_layers"].max_pool_forward_naive(x, dict(param))
            yield dtype, check.label, scaled_error(
                S["conv_layers"].max_pool_backward_naive(dout, s_cache), expected)
        return check
    return [make(cfg) for cfg in POOL_SECRET]


def _bn_args(rng, shape, dtype):
    C = shape[1]
    return (bn_input(rng, shape, dtype), rng.uniform(0.5, 2.0, C).astype(dtype),
            rng.uniform(-1.0, 1.0, C).astype(dtype))


def bn_train_checks(S, R, rng):
    def make(cfg):
        shape, dtype, momentum, group = cfg

        @_labelled("spatial batchnorm train %s" % (cfg[:-1],), group)
        def check():
            x, gamma, beta = _bn_args(rng, shape, dtype)
            expected, _ = R["conv_layers"].spatial_batchnorm_forward(
                x, gamma, beta, bn_param(shape[1], dtype, momentum))
            got, _ = S["conv_layers"].spatial_batchnorm_forward(
                x, gamma, beta, bn_param(shape[1], dtype, momentum))
            yield dtype, check.label, scaled_error(got, expected)
        return check
    return [make(cfg) for cfg in BN_TRAIN_CASES]


def bn_test_checks(S, R, rng):
    def make(cfg):
        shape, dtype, warmups, group = cfg

        @_labelled("spatial batchnorm test after %d passes %s" % (warmups, cfg[:-1]), group)
        def check():
            _, gamma, beta = _bn_args(rng, shape, dtype)
            batches = [bn_input(rng, shape, dtype) for _ in range(warmups)]
            x = bn_input(rng, shape, dtype, shift=1.5)
            outputs = []
            for M in (R, S):
                param = bn_param(shape[1], dtype)
                for batch in batches:
                    M["conv_layers"].spatial_batchnorm_forward(batch, gamma, beta, param)
                param["mode"] = "test"
                outputs.append(M["conv_layers"].spatial_batchnorm_forward(x, gamma, beta, param)[0])
            yield dtype, check.label, scaled_error(outputs[1], outputs[0])
        return check
    return [make(cfg) for cfg in BN_TEST_CASES]


def bn_backward_checks(S, R, rng):
    def make(cfg):
        shape, dtype, momentum, group = cfg

        @_labelled("spatial batchnorm backward %s" % (cfg[:-1],), group)
        def check():
            x, gamma, beta = _bn_args(rng, shape, dtype)
            dout = rng.standard_normal(shape).astype(dtype)
            results = []
            for M in (R, S):
                _, cache = M["conv_layers"].spatial_batchnorm_forward(
                    x, gamma, beta, bn_param(shape[1], dtype, momentum))
                results.append(M["conv_layers"].spatial_batchnorm_backward(dout, cache))
            for name, g, e in zip(("dx", "dgamma", "dbeta"), results[1], results[0]):
                yield dtype, "%s %s" % (check.label, name), scaled_error(g, e)
        return check
    return [make(cfg) for cfg in BN_TRAIN_CASES]


def relu_checks(S, R, rng):
    """The student's forward and backward together; then both again on the same arrays, as a
    caller that reuses x and dout would (code that writes into its arguments must still give
    the right values then)."""
    def make(shape, dtype, group):
        @_labelled("relu backward %s %s" % (shape, np.dtype(dtype).name), group)
        def check():
            x = away_from_zero(rng, shape, dtype)
            dout = rng.standard_normal(shape).astype(dtype)
            expected_out = R["layers"].relu_forward(x.copy())[0]
            expected = R["layers"].relu_backward(dout.copy(), R["layers"].relu_forward(x.copy())[1])
            for call in ("", " (called again on the same arrays)"):
                out, cache = S["layers"].relu_forward(x)
                yield dtype, check.label + " out" + call, scaled_error(out, expected_out)
                got = S["layers"].relu_backward(dout, cache)
                yield dtype, check.label + " dx" + call, scaled_error(got, expected)
        return check
    return [make(shape, dtype, group) for shape, dtype, group in
            (((3, 4), F64, "core"), ((2, 3, 4, 5), F64, "core"), ((5, 6), F32, "float32"))]


def softmax_checks(S, R, rng):
    N, C = 8, 10
    rows = np.arange(N)

    groups = {"normal": "core", "tiny probabilities": "extreme_scores",
              "large scores": "extreme_scores", "float32": "float32"}

    def make(kind):
        @_labelled("softmax %s" % kind, groups[kind])
        def check():
            y = rng.integers(0, C, N)
            x = rng.standard_normal((N, C))
            if kind == "tiny probabilities":
                x[rows, y] += np.where(rows % 2 == 0, -60.0, 60.0)
            elif kind == "large scores":
                x = x * 5 + np.where(rows % 2 == 0, 1000.0, -1000.0)[:, None]
            dtype = F32 if kind == "float32" else F64
            x = x.astype(dtype)
            with np.errstate(all="ignore"):
                expected = R["layers"].softmax_loss(x, y)
                got = S["layers"].softmax_loss(x, y)
            for name, g, e in zip(("loss", "dx"), got, expected):
                yield dtype, "%s %s" % (check.label, name), scaled_error(g, e)
        return check
    return [make(kind) for kind in ("normal", "tiny probabilities", "large scores", "float32")]


# ---- ThreeLayerConvNet -------------------------------------------------------------------------

def bn_dicts(model):
    """The batchnorm parameter dicts a model keeps, wherever (attributes, lists, tuples, dicts):
    every dict with a 'mode' key, in the order the model holds them."""
    found, seen = [], set()

    def walk(value, depth):
        if isinstance(value, dict):
            if "mode" in value:
                if id(value) not in seen:
                    seen.add(id(value))
                    found.append(value)
            elif depth < 2:
                for item in value.values():
                    walk(item, depth + 1)
        elif isinstance(value, (list, tuple)) and depth < 2:
            for item in value:
                walk(item, depth + 1)

    for name, value in vars(model).items():
        if name != "params":
            walk(value, 0)
    return found


def cnn_pair(S, R, rng, cfg):
    """(student model, reference model, X, y, dtype) with identical parameters and running stats."""
    input_dim, N, F, fs, hidden, classes, reg, use_bn, dtype = cfg
    args = dict(input_dim=input_dim, num_filters=F, filter_size=fs, hidden_dim=hidden,
                num_classes=classes, weight_scale=1e-2, reg=reg, dtype=dtype, use_batchnorm=use_bn)
    ref = R["cnn"].ThreeLayerConvNet(**args)
    stu = S["cnn"].ThreeLayerConvNet(**args)
    params = {}
    for key, value in ref.params.items():
        if key.startswith("W"):
            fan_in = value[0].size if key == "W1" else value.shape[0]
            params[key] = rng.standard_normal(value.shape) * np.sqrt(2.0 / fan_in)
        elif key.startswith("gamma"):
            params[key] = rng.uniform(0.7, 1.5, value.shape)
        else:
            params[key] = rng.uniform(-0.2, 0.2, value.shape)
    if set(stu.params) != set(params):
        raise Differs("params keys %s, expected %s" % (sorted(stu.params), sorted(params)))
    for key, value in params.items():
        if np.shape(stu.params[key]) != value.shape:
            raise Differs("params[%r] shape %s, expected %s" % (key, np.shape(stu.params[key]), value.shape))
        ref.params[key] = value.astype(dtype)
        stu.params[key] = value.astype(dtype)
    widths = (F, hidden)
    stats = [(rng.uniform(-0.2, 0.2, w).astype(dtype), rng.uniform(0.8, 1.5, w).astype(dtype))
             for w in widths] if use_bn else []
    for model in (ref, stu):
        for d, (mean, var) in zip(bn_dicts(model), stats):
            d["running_mean"], d["running_var"] = mean.copy(), var.copy()
    X = rng.standard_normal((N,) + tuple(input_dim)).astype(dtype)
    y = rng.integers(0, classes, N)
    return stu, ref, X, y, dtype


def raised_in_backward(exc):
    """True if the exception came from inside a function whose name says backward."""
    frame, names = exc.__traceback__, []
    while frame is not None:
        names.append(frame.tb_frame.f_code.co_name)
        frame = frame.tb_next
    return any("backward" in name for name in names)


def cnn_forward_checks(S, R, rng):
    def make(group, cfg):
        @_labelled("cnn forward %s" % (cfg,), group)
        def check():
            stu, ref, X, y, dtype = cnn_pair(S, R, rng, cfg)
            yield dtype, check.label + " first test scores", scaled_error(stu.loss(X), ref.loss(X))
            try:
                loss_s, _ = stu.loss(X, y)
            except Exception as exc:
                if not raised_in_backward(exc):
                    raise
                return   # the forward pass ran; what broke is the backward's (the gradient item)
            loss_r, _ = ref.loss(X, y)
            yield dtype, check.label + " loss", scaled_error(loss_s, loss_r)
            for _ in range(2):   # training passes move the running statistics
                Xw = (rng.standard_normal(X.shape) + 0.5).astype(dtype)
                yw = rng.integers(0, cfg[5], X.shape[0])
                stu.loss(Xw, yw)
                ref.loss(Xw, yw)
            yield dtype, check.label + " test scores", scaled_error(stu.loss(X), ref.loss(X))
        return check

    @_labelled("cnn initial parameters", "core")
    def init_check():
        # weights: the sample standard deviation within 5 standard errors of weight_scale
        # (an error of 0), else the relative deviation; biases: exactly zero
        for scale in (1e-3, 5e-2):
            args = dict(input_dim=(3, 16, 16), num_filters=8, filter_size=3, hidden_dim=20,
                        num_classes=10, weight_scale=scale, dtype=F64)
            model = S["cnn"].ThreeLayerConvNet(**args)
            for key in ("W1", "W2", "W3"):
                value = np.asarray(model.params[key], dtype=np.float64)
                deviation = abs(float(np.std(value)) / scale - 1.0)
                spread = 5.0 / np.sqrt(2.0 * value.size)
                yield F64, "initial std of %s at weight_scale %g" % (key, scale), \
                    (0.0 if deviation <= spread else deviation)
            for key in ("b1", "b2", "b3"):
                yield F64, "initial %s" % key, float(np.max(np.abs(model.params[key])))
    return [make(group, cfg) for group, cfg in CNN_CASES] + [init_check]


def cnn_gradient_checks(S, R, rng):
    def make(group, cfg):
        @_labelled("cnn gradient %s" % (cfg,), group)
        def check():
            stu, ref, X, y, dtype = cnn_pair(S, R, rng, cfg)
            _, grads_s = stu.loss(X, y)
            _, grads_r = ref.loss(X, y)
            if set(grads_s) != set(grads_r):
                raise Differs("grads keys %s" % sorted(grads_s))
            # with batchnorm the gradients of b1 and b2 are rounding noise around 0: measure
            # every gradient against a thousandth of the model's largest one at least
            floor = 1e-3 * max(np.max(np.abs(g)) for g in grads_r.values())
            for key in sorted(grads_r):
                yield dtype, "%s d%s" % (check.label, key), \
                    scaled_error(grads_s[key], grads_r[key], floor)
        return check
    return [make(group, cfg) for group, cfg in CNN_CASES
            if group in v.groups_of(v.CNN_G) + (MIXED,) and cfg[-1] == F64]


def item_checks(item, S, R, rng):
    return {
        v.CONV_F: lambda: conv_forward_checks(S, R, rng, CONV_NOTEBOOK),
        v.CONV_FS: lambda: conv_forward_checks(S, R, rng, CONV_SECRET),
        v.CONV_B: lambda: conv_backward_checks(S, R, rng),
        v.POOL_F: lambda: pool_forward_checks(S, R, rng, POOL_NOTEBOOK),
        v.POOL_FS: lambda: pool_forward_checks(S, R, rng, POOL_SECRET),
        v.POOL_B: lambda: pool_backward_checks(S, R, rng),
        v.BN_TRAIN: lambda: bn_train_checks(S, R, rng),
        v.BN_TEST: lambda: bn_test_checks(S, R, rng),
        v.BN_B: lambda: bn_backward_checks(S, R, rng),
        v.RELU_B: lambda: relu_checks(S, R, rng),
        v.SOFTMAX: lambda: softmax_checks(S, R, rng),
        v.CNN_F: lambda: cnn_forward_checks(S, R, rng),
        v.CNN_G: lambda: cnn_gradient_checks(S, R, rng),
    }[item]()


# ---- numerical gradients of a variant's own forward ------------------------------------------

def numerical_problems(S, rng):
    """Backward passes of S against centred differences of S's forward (float64, small inputs)."""
    problems = []

    def compare(what, analytic, numeric, tolerance=NUMERIC_TOLERANCE):
        error = gradients.rel_error(analytic, numeric) if np.shape(analytic) == np.shape(numeric) \
            else math.inf
        if error > tolerance:
            problems.append("%s: backward vs numerical gradient %.1e" % (what, error))

    cl = S["conv_layers"]
    x, w, b = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((2, 2, 3, 3)), rng.standard_normal(2)
    param = {"stride": 2, "pad": 1}
    out, cache = cl.conv_forward_naive(x, w, b, dict(param))
    dout = rng.standard_normal(out.shape)
    dx, dw, db = cl.conv_backward_naive(dout, cache)
    compare("conv dx", dx, gradients.numerical_gradient_of_output(
        lambda z: cl.conv_forward_naive(z, w, b, dict(param))[0], x, dout))
    compare("conv dw", dw, gradients.numerical_gradient_of_output(
        lambda z: cl.conv_forward_naive(x, z, b, dict(param))[0], w, dout))
    compare("conv db", db, gradients.numerical_gradient_of_output(
        lambda z: cl.conv_forward_naive(x, w, z, dict(param))[0], b, dout))

    for shape, (ph, pw), stride in (((1, 2, 5, 5), (3, 3), 1), ((2, 1, 6, 6), (2, 2), 2)):
        x = distinct(rng, shape)
        pool = {"pool_height": ph, "pool_width": pw, "stride": stride}
        out, cache = cl.max_pool_forward_naive(x, dict(pool))
        dout = rng.standard_normal(out.shape)
        compare("pool dx %s" % (shape,), cl.max_pool_backward_naive(dout, cache),
                gradients.numerical_gradient_of_output(
                    lambda z: cl.max_pool_forward_naive(z, dict(pool))[0], x, dout,
                    h=gradients.LINEAR_STEP))

    shape = (3, 2, 3, 2)
    x, gamma, beta = _bn_args(rng, shape, F64)
    dout = rng.standard_normal(shape)
    _, cache = cl.spatial_batchnorm_forward(x, gamma, beta, bn_param(2, F64))
    analytic = cl.spatial_batchnorm_backward(dout, cache)
    for name, arg in (("dx", 0), ("dgamma", 1), ("dbeta", 2)):
        def f(z, arg=arg):
            args = [x, gamma, beta]
            args[arg] = z
            return cl.spatial_batchnorm_forward(*args, bn_param(2, F64))[0]
        compare("spatial batchnorm " + name, analytic[arg],
                gradients.numerical_gradient_of_output(f, [x, gamma, beta][arg], dout), 1e-5)

    ly = S["layers"]
    x = away_from_zero(rng, (4, 5))
    dout = rng.standard_normal((4, 5))
    # on copies: a ReLU that writes into its argument returns the right values (its own
    # check, relu_checks), but would zero the negatives the differences are taken around
    compare("relu dx", ly.relu_backward(dout.copy(), ly.relu_forward(x.copy())[1]),
            gradients.numerical_gradient_of_output(lambda z: ly.relu_forward(z.copy())[0], x, dout,
                                                   h=gradients.LINEAR_STEP))
    scores, y = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    compare("softmax dx", ly.softmax_loss(scores, y)[1],
            gradients.numerical_gradient(lambda z: ly.softmax_loss(z, y)[0], scores))

    for use_bn in (False, True):
        model = S["cnn"].ThreeLayerConvNet(input_dim=(2, 6, 5), num_filters=2, filter_size=3,
                                           hidden_dim=4, num_classes=3, weight_scale=0.3,
                                           reg=0.2, dtype=F64, use_batchnorm=use_bn)
        # parameters drawn from rng, not from the global np.random the model's __init__ used
        # (whose state depends on what ran before: a draw near a ReLU kink or a pooling tie
        # made this check flaky)
        for key, value in sorted(model.params.items()):
            shape = np.shape(value)
            model.params[key] = (0.3 * rng.standard_normal(shape) if key.startswith("W") else
                                 rng.uniform(0.7, 1.5, shape) if key.startswith("gamma") else
                                 rng.uniform(-0.2, 0.2, shape))
        X, y = rng.standard_normal((3, 2, 6, 5)), rng.integers(0, 3, 3)
        _, grads = model.loss(X, y)
        for key in sorted(model.params):
            def f(z, key=key):
                saved = model.params[key]
                model.params[key] = z
                try:
                    return model.loss(X, y)[0]
                finally:
                    model.params[key] = saved
            numeric = gradients.numerical_gradient(f, model.params[key])
            # with batchnorm, b1 and b2 cancel out of the loss: both gradients are ~0
            vanishing = max(np.max(np.abs(numeric)), np.max(np.abs(grads[key]))) < 1e-8
            error = 0.0 if vanishing else gradients.scaled_error(grads[key], numeric)
            if error > 1e-6:
                problems.append("cnn%s d%s: backward vs numerical gradient %.1e"
                                % (" batchnorm" if use_bn else "", key, error))
    return problems


# ---- verdicts --------------------------------------------------------------------------------

def group_verdicts(S, R, items, seed=0):
    """{item: {group: Verdict of its worst input}} for the given items."""
    verdicts = {}
    for index, item in enumerate(items):
        verdicts[item] = _run(item_checks(item, S, R, np.random.default_rng([seed, index])), item)
    return verdicts


def item_verdicts(S, R, items, seed=0):
    """{item: (error / tolerance, error, label of the worst input)} for the given items."""
    return {item: tuple(_overall(by_group))[:3]
            for item, by_group in group_verdicts(S, R, items, seed).items()}


def label_problems(variant, verdicts):
    """Why a bug's confined_to / feature label is wrong (empty: it holds), from its
    group_verdicts: the labelled groups must be groups of the items it touches, the bug must
    show in a labelled group of every item it must lose, and every other group of every
    reached item must pass at the grader's tolerance (MIXED inputs aside)."""
    allowed = set(variant.label_groups)
    if not allowed:
        return []
    problems = []
    touched_groups = {g for item in variant.touches for g in v.groups_of(item)}
    for name in sorted(allowed - touched_groups):
        problems.append("labelled group %r is no group of the items it touches" % name)
    for item, by_group in verdicts.items():
        if item in variant.loses and not any(
                verdict.error > BUG_VISIBLE for group, verdict in by_group.items() if group in allowed):
            problems.append("%s: the bug does not show in its groups %s" % (item, sorted(allowed)))
        for group, verdict in by_group.items():
            if group not in allowed and group != MIXED and verdict.grader_weight > 1.0:
                problems.append("%s: group %s, outside %s, differs (%.1e at %s)"
                                % (item, group, sorted(allowed), verdict.error, verdict.label))
    return problems


def problems_of(variant, folder, reference):
    """Why the variant's label is wrong (empty: the label holds), checked in `folder`."""
    build.write_nndl(folder, variant.replaces)
    S = load_nndl(folder)
    items = reached_items(variant)
    problems = []
    verdicts = group_verdicts(S, reference, items)
    for item, by_group in verdicts.items():
        weight, error, label, _ = _overall(by_group)
        if item in variant.loses:
            if error <= BUG_VISIBLE:
                problems.append("%s: the bug does not show (largest error %.1e)" % (item, error))
        elif item not in variant.may_lose and weight > 1.0:
            problems.append("%s: differs from the reference (%.1e at %s)" % (item, error, label))
    missing = set(variant.loses) - set(items)
    if missing:
        problems.append("must lose %s, which its code cannot reach" % sorted(missing))
    if variant.label_groups and not variant.is_bug:
        problems.append("a correct variant carries a group label")
    problems += label_problems(variant, verdicts)
    if not variant.is_bug:
        problems += numerical_problems(S, np.random.default_rng(1))
    return problems
