"""The student's side of issue 25: how long does a classic-template CNN take to reach 65%?

    python -m tests.fairness.student_training [--style template_everything] [--target 0.65]
                                              [--epochs N] [--threads N] [--cifar10-dir DIR]
                                              [--subset N] [--max-iters N] [--profile-steps N]

Assembles the nndl package of a fairness variant (build.py / variants.py; by default
"template_everything", the whole classic course template: loops with float64 allocations
for the naive conv and pool, spatial batchnorm over axes (0, 2, 3), the classic staged
vanilla batchnorm, bn_params a dict) and trains its ThreeLayerConvNet in the reference
configuration (train_cifar.REFERENCE_MODEL / REFERENCE_SOLVER: Adam from the reference
nndl.optim, flips, shuffled epochs) on real CIFAR-10, as cs231n.train_cifar trains the
reference. It prints:

1. Where a step's time goes (--profile-steps steps on the first batches): the median ms
   per step of each layer function the step calls (outermost calls only: a spatial
   batchnorm that calls the vanilla one counts once), of the update rule, and the dtype
   of every gradient (a float64 gradient of a float32 weight means float64 work).
2. One line per epoch (wall time, loss, train and validation accuracy), stopping at the
   first epoch whose validation accuracy reaches --target.
3. The median ms per training iteration, and the wall time to the target (data loading
   and the epochs' accuracy checks included, as train_cifar's "time to 65%").

Nothing here asserts a time: the figures depend on the machine and its load.
"""
import cs231n  # noqa: F401  (first: it sets OPENBLAS_THREAD_TIMEOUT before numpy loads OpenBLAS)

import argparse
import collections
import functools
import os
import statistics
import sys
import tempfile
import time
import types

import numpy as np

from cs231n import machine
from cs231n.solver import Solver
from cs231n.train_cifar import (REFERENCE_MODEL, REFERENCE_SOLVER, TARGET_VAL_ACC, blas_threads,
                                peak_memory_mb, run_epochs, set_blas_threads)
from tests.fairness import build, verify
from tests.fairness import variants as v

DEFAULT_STYLE = "template_everything"
PROFILED_MODULES = ("layers", "conv_layers")  # the student's own layer functions


def load_style(name, folder):
    """{module name: module} of the variant's nndl package, written into folder."""
    variant = v.by_name(name)
    build.write_nndl(folder, variant.replaces)
    return verify.load_nndl(folder)


def make_solver(modules, data, seed=0):
    """A Solver of the reference configuration for the style's ThreeLayerConvNet."""
    # The Solver finds its update rule in nndl.optim, which no variant changes: the reference's.
    if str(build.SOLUTIONS_NNDL.parent) not in sys.path:
        sys.path.append(str(build.SOLUTIONS_NNDL.parent))
    np.random.seed(seed)  # the templates draw their weights from the global generator
    model = modules["cnn"].ThreeLayerConvNet(**dict(REFERENCE_MODEL,
                                                    input_dim=data["X_train"].shape[1:]))
    return Solver(model, data, verbose=False, seed=seed, **REFERENCE_SOLVER)


class LayerClock:
    """Wall time of the outermost calls of the wrapped functions, by function name."""

    def __init__(self):
        self.seconds = collections.defaultdict(float)
        self.depth = 0

    def wrap(self, label, function):
        @functools.wraps(function)
        def timed(*args, **kwargs):
            self.depth += 1
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.depth -= 1
                if self.depth == 0:
                    self.seconds[label] += time.perf_counter() - start
        timed.wrapped = function
        return timed


def instrument(modules, clock):
    """Rebind, in every loaded nndl module, the layer functions of nndl.layers and
    nndl.conv_layers and those imported from cs231n.fast_layers to clock's wrappers;
    returns a function that puts the originals back."""
    layer_modules = {modules[name].__name__ for name in PROFILED_MODULES} | {"cs231n.fast_layers"}
    undo = []
    for module in modules.values():
        for name, value in list(vars(module).items()):
            if (isinstance(value, types.FunctionType) and value.__module__ in layer_modules
                    and not name.startswith("_")):
                undo.append((module, name, value))
                setattr(module, name, clock.wrap(name, value))

    def restore():
        for module, name, value in undo:
            setattr(module, name, value)
    return restore


def profile_steps(solver, modules, steps):
    """(rows, gradient dtypes): median ms per step of each layer function, the update
    rule and the whole step over `steps` training steps; the dtypes of one step's grads."""
    clock = LayerClock()
    restore = instrument(modules, clock)
    rule = solver.update_rule
    solver.update_rule = clock.wrap("update rule (%s)" % solver.update_rule_name, rule)
    model_loss = solver.model.loss
    grad_dtypes = {}

    def loss(X, y=None):
        result = model_loss(X, y)
        if y is not None:
            grad_dtypes.update({k: str(np.asarray(g).dtype) for k, g in result[1].items()})
        return result

    solver.model.loss = loss
    per_step = collections.defaultdict(list)
    try:
        for _ in range(steps):
            clock.seconds.clear()
            start = time.perf_counter()
            solver._step()
            clock.seconds["whole step"] = time.perf_counter() - start
            for label, seconds in clock.seconds.items():
                per_step[label].append(seconds * 1e3)
    finally:
        restore()
        solver.update_rule = rule
        del solver.model.loss  # the instance attribute: back to the class's method
    rows = sorted(((label, statistics.median(values)) for label, values in per_step.items()),
                  key=lambda row: -row[1])
    return rows, grad_dtypes


def format_profile(rows, grad_dtypes, param_dtypes):
    step = dict(rows)["whole step"]
    lines = ["%-34s %9s %7s" % ("function (outermost calls)", "ms/step", "share")]
    lines += ["%-34s %9.1f %6.0f%%" % (label, ms, 100 * ms / step) for label, ms in rows]
    mixed = sorted(k for k, dtype in grad_dtypes.items() if dtype != param_dtypes.get(k))
    lines.append("gradient dtypes: %s" % ", ".join("%s %s" % kv for kv in sorted(grad_dtypes.items())))
    lines.append("gradients in another dtype than their parameter: %s"
                 % (", ".join("%s (%s for %s)" % (k, grad_dtypes[k], param_dtypes[k]) for k in mixed)
                    or "none"))
    return "\n".join(lines)


def run(style=DEFAULT_STYLE, target=TARGET_VAL_ACC, epochs=None, cifar10_dir=None, subset=None,
        max_iters=None, profile=5, log=print):
    """Load CIFAR-10, profile and train the style; returns a summary dict."""
    from cs231n.data_utils import get_CIFAR10_data

    v.by_name(style)  # StopIteration on a typo, before the data are loaded
    wall_start = time.perf_counter()
    data = get_CIFAR10_data(num_training=subset or 49000, cifar10_dir=cifar10_dir)
    load_seconds = time.perf_counter() - wall_start
    log("data: %d train, %d val, loaded in %.1fs" % (len(data["y_train"]), len(data["y_val"]),
                                                     load_seconds))
    with tempfile.TemporaryDirectory(prefix="student-training-") as folder:
        modules = load_style(style, folder)
        if profile:
            # A separate solver and model: the timed run below starts from the same weights.
            probe = make_solver(modules, data)
            param_dtypes = {k: str(p.dtype) for k, p in probe.model.params.items()}
            probe._step()  # warm up
            rows, grad_dtypes = profile_steps(probe, modules, profile)
            log(format_profile(rows, grad_dtypes, param_dtypes))
            del probe
        solver = make_solver(modules, data)
        train_start = time.perf_counter()
        solver.num_epochs = epochs or REFERENCE_SOLVER["num_epochs"]
        step_ms = []
        rows = run_epochs(solver, data, max_iters=max_iters, target=target, step_ms=step_ms,
                          log=log)
        training_seconds = time.perf_counter() - train_start
    reached = next((row for row in rows if row["val_acc"] >= target), None)
    summary = dict(style=style, target=target, iterations=len(step_ms),
                   ms_per_iteration=statistics.median(step_ms) if step_ms else None,
                   best_val_acc=max((row["val_acc"] for row in rows), default=0.0),
                   training_seconds=training_seconds, load_seconds=load_seconds,
                   target_epoch=reached["epoch"] if reached else None,
                   # as train_cifar.time_to_target: loading, steps and accuracy checks
                   seconds_to_target=load_seconds + reached["elapsed"] if reached else None,
                   params_dtypes=sorted({str(p.dtype) for p in solver.model.params.values()}),
                   peak_memory_mb=peak_memory_mb())
    return summary


def summary_lines(summary):
    reached = summary["seconds_to_target"]
    return [
        "| measure | value |", "| --- | --- |",
        "| style | %s |" % summary["style"],
        "| ms per iteration (median, batch %d) | %.1f |" % (REFERENCE_SOLVER["batch_size"],
                                                           summary["ms_per_iteration"]),
        "| iterations trained | %d |" % summary["iterations"],
        "| wall time to %.0f%% validation (data loading included) | %s |" % (
            100 * summary["target"], "not reached" if reached is None
            else "%.1f s (epoch %d)" % (reached, summary["target_epoch"])),
        "| best validation accuracy | %.3f |" % summary["best_val_acc"],
        "| parameter dtypes after training | %s |" % ", ".join(summary["params_dtypes"]),
        "| peak memory | %.0f MB |" % summary["peak_memory_mb"],
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.fairness.student_training",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--style", default=DEFAULT_STYLE,
                        help="fairness variant to train (default: %(default)s)")
    parser.add_argument("--target", type=float, default=TARGET_VAL_ACC,
                        help="validation accuracy to stop at (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="at most this many epochs (default: the reference's %d)"
                        % REFERENCE_SOLVER["num_epochs"])
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads; default: BLAS's own setting")
    parser.add_argument("--cifar10-dir", default=None, help="data folder (else CIFAR10_DIR, ...)")
    parser.add_argument("--subset", type=int, default=None, help="train on the first N images")
    parser.add_argument("--max-iters", type=int, default=None, help="stop after N iterations")
    parser.add_argument("--profile-steps", type=int, default=5,
                        help="steps timed layer by layer before training (0: none)")
    args = parser.parse_args(argv)
    if args.threads and not set_blas_threads(args.threads):
        print("cannot set the BLAS thread count here; using %d" % blas_threads())
    print("load average (1, 5, 15 min): %.2f %.2f %.2f" % os.getloadavg())
    print(machine.describe(blas_threads()))
    summary = run(style=args.style, target=args.target, epochs=args.epochs,
                  cifar10_dir=args.cifar10_dir, subset=args.subset, max_iters=args.max_iters,
                  profile=args.profile_steps)
    print()
    for line in summary_lines(summary):
        print(line)
    print("load average (1, 5, 15 min): %.2f %.2f %.2f" % os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
