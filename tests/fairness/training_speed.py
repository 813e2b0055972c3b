"""The student's side of the speed issue (issue 15): do the fast layers' layouts cost a student anything?

    python -m tests.fairness.training_speed [--repeat N] [--steps N] [--styles NAME,...]
                                            [--no-layouts] [--no-training]

Prints two tables, every time a median of rounds timed alternately in this process
(cs231n.benchmark.time_rounds), so that machine noise hits all columns alike:

1. Layouts: conv_forward_fast / conv_backward_fast and max_pool_forward_fast /
   max_pool_backward_fast at the reference network's training shapes in float32, with
   x (forward) or dout (backward) handed over in each layout a student's code can
   produce (LAYOUTS), as the median ms and the ratio to C order, and the peak memory
   the call allocates beyond the C-order call's (tracemalloc, which numpy reports
   its buffers to: noise-free evidence of a copy). A ratio above COPY_RATIO, or extra
   memory of at least COPY_FRACTION of the argument's size, is flagged.
2. Typical student CNNs: one Solver._step (batch 200 of random data, the
   train_cifar.REFERENCE_MODEL network, Adam) of nndl packages assembled as the
   fairness suite assembles its correct variants (build.py, variants.py), once with the
   fast layers as they are ("ours") and once with every fast layer's output or gradients
   copied to plain C order ("plain": what a fast layer that ignores layouts would hand
   back). ours/plain <= ~1.0 means our layout choices never make a student's CNN slower.
   The plain side pays for its copies (the "copies" column: their ms per step), so
   ours/(plain - copies) compares with a plain layer whose C order came for free (a
   bound, not a measurement: the copies' cache effects stay in). The last column is
   the style's step time ("ours") over the reference nndl's, timed in the same rounds.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cs231n import fast_layers, threads
from cs231n.benchmark import conv_inputs, pool_inputs, time_rounds
from cs231n.solver import Solver
from cs231n.train_cifar import REFERENCE_MODEL, REFERENCE_SOLVER
from tests.fairness import build, verify
from tests.fairness import variants as v

COPY_RATIO = 1.15     # a layout this much slower than C order is paying for a copy
COPY_FRACTION = 0.5   # ... or allocating at least half its argument's size more than C order does
SLOWER_RATIO = 1.10   # a student style this much slower than "plain" is a regression

# The reference network's training shapes: its conv, its pool, and a conv on a
# 64-channel input (the shape of a second conv layer a student may add).
CONV_CASES = (
    ("conv x200x3x32x32 w64x3x3x3", dict(x=(200, 3, 32, 32), w=(64, 3, 3, 3), stride=1, pad=1)),
    ("conv x200x64x16x16 w64x64x3x3", dict(x=(200, 64, 16, 16), w=(64, 64, 3, 3), stride=1, pad=1)),
)
POOL_CASES = (
    ("pool x200x64x32x32 2x2/2", dict(x=(200, 64, 32, 32), pool=2, stride=2)),
)


# --------------------------------------------------------------------------- #
# Layouts: the same values in the memory orders a student's code produces
# --------------------------------------------------------------------------- #

def c_order(a):
    return np.ascontiguousarray(a).copy()


def fortran_order(a):
    return np.asfortranarray(a)


def channels_last(a):
    """(N, C, H, W) view of (N, H, W, C) memory: what a transpose back from rows gives."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def sliced_batch(a):
    """Every other image of a batch twice as big (X[::2])."""
    bigger = np.zeros((2 * a.shape[0],) + a.shape[1:], dtype=a.dtype)
    bigger[::2] = a
    return bigger[::2]


def cropped_view(a):
    """The inside of a bigger, padded array (x_pad[:, :, 1:-1, 1:-1])."""
    N, C, H, W = a.shape
    bigger = np.zeros((N, C, H + 2, W + 2), dtype=a.dtype)
    bigger[:, :, 1:-1, 1:-1] = a
    return bigger[:, :, 1:-1, 1:-1]


def reversed_width(a):
    """A mirrored view (x[..., ::-1], as a flip augmentation writes it) of mirrored memory."""
    return np.ascontiguousarray(a[..., ::-1])[..., ::-1]


LAYOUTS = {
    "C order": c_order,
    "Fortran order": fortran_order,
    "channels-last": channels_last,
    "sliced batch": sliced_batch,
    "cropped view": cropped_view,
    "reversed width": reversed_width,
}


@dataclass
class LayoutRow:
    case: str
    op: str          # which pass, and which of its arguments takes the layouts
    layout: str
    ms: float
    ratio: float     # ms over the C-order ms of the same case and op
    extra_mb: float  # peak allocation beyond the C-order call's, MB
    argument_mb: float

    @property
    def slower(self):
        return self.ratio > COPY_RATIO

    @property
    def copies(self):
        return self.extra_mb >= COPY_FRACTION * self.argument_mb

    @property
    def hidden_copy(self):
        return self.slower or self.copies


def peak_allocation(run):
    """Bytes allocated at the peak of one call of run(), beyond what was allocated before."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        run()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        if not was_tracing:
            tracemalloc.stop()


def _rows(case, op, runs, arguments, repeat):
    """Rows of one pass: runs and arguments map each layout to its call and the array it takes."""
    medians = time_rounds(runs, repeat)
    peaks = {name: peak_allocation(run) for name, run in runs.items()}
    base_ms, base_peak = medians["C order"], peaks["C order"]
    return [LayoutRow(case, op, name, medians[name], medians[name] / base_ms,
                      (peaks[name] - base_peak) / 1e6, arguments[name].nbytes / 1e6)
            for name in runs]


def _in_layouts(a):
    arrays = {name: make(a) for name, make in LAYOUTS.items()}
    for name, array in arrays.items():  # the same values, only the strides differ
        assert array.shape == a.shape and np.array_equal(array, a), name
    return arrays


def conv_layout_rows(case, spec, repeat, dtype=np.float32):
    x, w, b, conv_param = conv_inputs(spec, dtype)
    out, cache = fast_layers.conv_forward_fast(x, w, b, conv_param)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    xs, douts = _in_layouts(x), _in_layouts(dout)
    forward = {name: (lambda xl=xl: fast_layers.conv_forward_fast(xl, w, b, conv_param))
               for name, xl in xs.items()}
    backward = {name: (lambda dl=dl: fast_layers.conv_backward_fast(dl, cache))
                for name, dl in douts.items()}
    return (_rows(case, "forward (x)", forward, xs, repeat)
            + _rows(case, "backward (dout)", backward, douts, repeat))


def pool_layout_rows(case, spec, repeat, dtype=np.float32):
    x, pool_param = pool_inputs(spec, dtype)
    xs = _in_layouts(x)
    forward = {name: (lambda xl=xl: fast_layers.max_pool_forward_fast(xl, pool_param))
               for name, xl in xs.items()}
    rows = _rows(case, "forward (x)", forward, xs, repeat)
    # The backward pass depends on the forward's input layout too (the channels-last
    # path keeps its winners channels-last): dout in every layout after each.
    for forward_layout in ("C order", "channels-last"):
        out, cache = fast_layers.max_pool_forward_fast(xs[forward_layout], pool_param)
        dout = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
        douts = _in_layouts(dout)
        backward = {name: (lambda dl=dl, cache=cache: fast_layers.max_pool_backward_fast(dl, cache))
                    for name, dl in douts.items()}
        op = "backward (dout), x %s" % forward_layout
        rows += _rows(case, op, backward, douts, repeat)
    return rows


def layout_rows(repeat, conv_cases=CONV_CASES, pool_cases=POOL_CASES):
    rows = []
    for case, spec in conv_cases:
        rows += conv_layout_rows(case, spec, repeat)
    for case, spec in pool_cases:
        rows += pool_layout_rows(case, spec, repeat)
    return rows


def _flag(row):
    if row.copies:
        return "  <- copies its argument (%.0f MB)" % row.argument_mb
    return "  <- slower" if row.slower else ""


def format_layout_table(rows):
    lines = ["%-30s %-33s %-15s %9s %9s %9s" % ("case (float32)", "pass (argument in the layout)",
                                                "layout", "median ms", "/C order", "extra MB")]
    for row in rows:
        lines.append("%-30s %-33s %-15s %9.2f %8.2fx %9.1f%s" % (
            row.case, row.op, row.layout, row.ms, row.ratio, row.extra_mb, _flag(row)))
    return "\n".join(lines)


# --------------------------------------------------------------------------- #
# Typical student CNNs: the fast layers as they are vs. plain C-order outputs
# --------------------------------------------------------------------------- #

# The correct fairness variants whose code runs in a training step (a Solver step
# calls ThreeLayerConvNet.loss: the sandwich layers, spatial and vanilla batchnorm,
# ReLU; the naive conv and pool layers are graded but never trained with).
STYLES = (
    "reference_unchanged",
    "cnn_bn_params_dict",
    "cnn_direct_layers",
    "sbn_direct_axes",
    "sbn_staged_backward",
    "sbn_moveaxis_vanilla",
    "sbn_float64",
    "batchnorm_classic",
    "relu_cache_out",
    "relu_backward_copy_mask",
    "relu_backward_where",
    "template_everything",
)
REFERENCE = "reference_unchanged"


class CopyClock:
    """Seconds the plain wrappers spent copying, since the last reset."""

    def __init__(self):
        self.seconds = 0.0

    def reset(self):
        self.seconds = 0.0


def _plain_copy(value, clock):
    if not isinstance(value, np.ndarray):
        return value
    start = time.perf_counter()
    copied = np.ascontiguousarray(value)
    clock.seconds += time.perf_counter() - start
    return copied


def plain_layer(function, clock):
    """function (a cs231n.fast_layers layer) with its output (forward: (out, cache)) or its
    gradients (backward: an array or a tuple of them) handed back as C-order arrays."""
    if "forward" in function.__name__:
        def plain(*args, **kwargs):
            out, cache = function(*args, **kwargs)
            return _plain_copy(out, clock), cache
    else:
        def plain(*args, **kwargs):
            result = function(*args, **kwargs)
            if isinstance(result, tuple):
                return tuple(_plain_copy(a, clock) for a in result)
            if isinstance(result, list):
                return [_plain_copy(a, clock) for a in result]
            return _plain_copy(result, clock)
    plain.__name__ = function.__name__
    plain.__doc__ = function.__doc__
    plain.wrapped = function
    return plain


def make_plain(modules, clock):
    """Rebind, in every loaded nndl module, each function imported from cs231n.fast_layers to
    its plain_layer; returns the names rebound as 'module.name'."""
    rebound = []
    for module_name, module in modules.items():
        for name, value in list(vars(module).items()):
            if isinstance(value, types.FunctionType) and value.__module__ == fast_layers.__name__:
                setattr(module, name, plain_layer(value, clock))
                rebound.append("%s.%s" % (module_name, name))
    return rebound


def load_style(name, folder):
    """(ours, plain, clock, rebound): two independent loads of the variant's nndl package
    (build.write_nndl into folder), the second with plain fast layers."""
    variant = v.by_name(name)
    nndl_folder = Path(folder) / name
    if not (nndl_folder / "nndl").is_dir():
        build.write_nndl(nndl_folder, variant.replaces)
    ours = verify.load_nndl(nndl_folder)
    plain = verify.load_nndl(nndl_folder)
    clock = CopyClock()
    rebound = make_plain(plain, clock)
    return ours, plain, clock, rebound


def random_data(num_train, input_dim, num_classes=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((num_train,) + tuple(input_dim)).astype(np.float32)
    y = rng.integers(num_classes, size=num_train)
    return {"X_train": X, "y_train": y, "X_val": X[:10], "y_val": y[:10]}


def make_solver(modules, data, batch_size, model_kwargs=None):
    """A Solver of the reference configuration (Adam, flips, shuffled epochs) for a
    ThreeLayerConvNet of these modules; the same initial weights for every call."""
    # The Solver finds its update rule in nndl.optim, which no variant changes: the reference's.
    if str(build.SOLUTIONS_NNDL.parent) not in sys.path:
        sys.path.append(str(build.SOLUTIONS_NNDL.parent))
    np.random.seed(0)  # the templates draw their weights from the global generator
    kwargs = dict(REFERENCE_MODEL, input_dim=data["X_train"].shape[1:], **(model_kwargs or {}))
    model = modules["cnn"].ThreeLayerConvNet(**kwargs)
    settings = dict(REFERENCE_SOLVER, batch_size=batch_size, verbose=False, seed=0)
    return Solver(model, data, **settings)


@dataclass
class StyleRow:
    style: str
    ours_ms: float
    plain_ms: float
    copies_ms: float      # of plain_ms: the plain wrappers' copies
    reference_ms: float   # the reference nndl ("ours"), timed in the same rounds

    @property
    def ratio(self):
        return self.ours_ms / self.plain_ms

    @property
    def ratio_without_copies(self):
        """ours over plain less its copies: against a plain layer whose C order came free."""
        return self.ours_ms / max(self.plain_ms - self.copies_ms, 1e-9)

    @property
    def vs_reference(self):
        return self.ours_ms / self.reference_ms

    @property
    def slower(self):
        return self.ratio > SLOWER_RATIO


def style_row(name, folder, data, steps, batch_size, reference_solver=None, model_kwargs=None):
    """Time a training step of the style both ways (and of the reference) in alternating rounds."""
    ours, plain, clock, _ = load_style(name, folder)
    ours_solver = make_solver(ours, data, batch_size, model_kwargs)
    plain_solver = make_solver(plain, data, batch_size, model_kwargs)
    copies = []

    def plain_step():
        clock.reset()
        plain_solver._step()
        copies.append(clock.seconds * 1e3)

    impls = {"ours": ours_solver._step, "plain": plain_step}
    if reference_solver is not None and name != REFERENCE:
        impls["reference"] = reference_solver._step
    medians = time_rounds(impls, steps)
    return StyleRow(name, medians["ours"], medians["plain"], statistics.median(copies),
                    medians.get("reference", medians["ours"]))


def style_rows(styles, steps, batch_size=200, num_train=1000, model_kwargs=None, input_dim=(3, 32, 32)):
    data = random_data(num_train, input_dim)
    with tempfile.TemporaryDirectory(prefix="training-speed-") as folder:
        reference = make_solver(load_style(REFERENCE, folder)[0], data, batch_size, model_kwargs)
        return [style_row(name, folder, data, steps, batch_size, reference, model_kwargs)
                for name in styles]


def format_style_table(rows):
    header = "%-24s %9s %9s %10s %11s %12s %15s"
    lines = [header % ("style (Solver._step)", "ours ms", "plain ms", "of which", "ours/plain",
                       "ours/(plain", "ours/reference"),
             header % ("", "", "", "copies ms", "", "- copies)", "")]
    for row in rows:
        lines.append("%-24s %9.1f %9.1f %10.1f %10.2fx %11.2fx %14.2fx%s" % (
            row.style, row.ours_ms, row.plain_ms, row.copies_ms, row.ratio,
            row.ratio_without_copies, row.vs_reference,
            "  <- slower than plain" if row.slower else ""))
    return "\n".join(lines)


def step_values(name, folder, data, batch_size, model_kwargs=None):
    """{'ours': (loss, grads), 'plain': (loss, grads)} of the first training step's batch."""
    ours, plain, _, rebound = load_style(name, folder)
    if not rebound:
        raise AssertionError("%s: no fast layer to make plain" % name)
    values = {}
    for way, modules in (("ours", ours), ("plain", plain)):
        solver = make_solver(modules, data, batch_size, model_kwargs)
        index = solver._next_batch_indices()
        X = solver.augment(solver.X_train[index], solver._rng)
        values[way] = solver.model.loss(X, solver.y_train[index])
    return values


def _load_line():
    return "load average (1, 5, 15 min): %.2f %.2f %.2f on %d CPUs" % (os.getloadavg() + (os.cpu_count(),))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.fairness.training_speed",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11, help="timed rounds per layout table entry")
    parser.add_argument("--steps", type=int, default=9, help="timed training steps per style and way")
    parser.add_argument("--styles", default=",".join(STYLES),
                        help="comma-separated fairness variants (default: %(default)s)")
    parser.add_argument("--no-layouts", action="store_true", help="skip the layout table")
    parser.add_argument("--no-training", action="store_true", help="skip the student CNN table")
    args = parser.parse_args(argv)
    styles = [name.strip() for name in args.styles.split(",") if name.strip()]
    for name in styles:
        v.by_name(name)  # StopIteration on a typo, before any timing

    print(_load_line())
    print("numpy %s, compiled kernels: %s, kernel threads: %d"
          % (np.__version__, "yes" if fast_layers.HAVE_COMPILED else "NO", threads.THREADS))
    if not args.no_layouts:
        rows = layout_rows(args.repeat)
        print()
        print(format_layout_table(rows))
        copied = ["%s %s %s (+%.0f MB)" % (r.case, r.op, r.layout, r.extra_mb)
                  for r in rows if r.copies]
        slower = ["%s %s %s (%.2fx)" % (r.case, r.op, r.layout, r.ratio) for r in rows if r.slower]
        print("copies (extra memory >= %g x the argument): %s"
              % (COPY_FRACTION, "; ".join(copied) or "none"))
        print("slower than C order (> %.2fx): %s" % (COPY_RATIO, "; ".join(slower) or "none"))
        print(_load_line())
    if not args.no_training:
        rows = style_rows(styles, args.steps)
        print()
        print(format_style_table(rows))
        slower = [r.style for r in rows if r.slower]
        print("styles slower with our layouts (ours/plain > %.2f): %s"
              % (SLOWER_RATIO, ", ".join(slower) or "none"))
        print(_load_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
