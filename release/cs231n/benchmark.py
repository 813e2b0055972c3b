"""Time the fast conv / max pool layers against the naive layers and PyTorch.

    python -m cs231n.benchmark [--repeat N] [--no-torch]

Prints medians in milliseconds and the ratios naive/fast (speed-up over the
naive reference, handout shapes only: it is slow) and fast/torch (below 1 means
faster than PyTorch on the CPU). Implementations are timed in alternating
rounds so that machine noise hits all of them alike. PyTorch is optional and
runs with as many threads as numpy's BLAS; the naive rows need the reference
nndl package (found on sys.path or in <repo>/solutions).
"""
import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cs231n import fast_layers, machine

HANDOUT_CONV = dict(x=(100, 3, 31, 31), w=(25, 3, 3, 3), stride=2, pad=1)
HANDOUT_POOL = dict(x=(100, 3, 32, 32), pool=2, stride=2)
TRAIN_CONV = dict(x=(200, 3, 32, 32), w=(64, 3, 3, 3), stride=1, pad=1)
TRAIN_POOL = dict(x=(200, 64, 32, 32), pool=2, stride=2)
NAIVE_ROUNDS = 3  # the naive layers take seconds; a few rounds are enough
PAUSE_S = 0.005  # before each timed run: lets other threads wind down


@dataclass
class Row:
    """One line of the table: medians in ms per implementation."""
    case: str
    op: str
    medians: dict = field(default_factory=dict)


def import_naive():
    """nndl.conv_layers from sys.path, else from <repo>/solutions; None if absent."""
    try:
        from nndl import conv_layers
        return conv_layers
    except ImportError:
        pass
    solutions = Path(__file__).resolve().parents[2] / "solutions"
    if (solutions / "nndl" / "conv_layers.py").is_file():
        sys.path.insert(0, str(solutions))
        try:
            from nndl import conv_layers
            return conv_layers
        except ImportError:
            return None
    return None


def blas_threads():
    """Threads numpy's BLAS uses (threadpoolctl if installed, else the CPU count)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1
    counts = [pool["num_threads"] for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return max(counts) if counts else (os.cpu_count() or 1)


def import_torch(threads):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def time_rounds(impls, repeat, rounds_for=None):
    """Median ms per implementation, timing them in alternating rounds.

    impls maps a name to a zero-argument callable; rounds_for optionally caps
    the rounds of some names. Each callable runs once untimed first (warm-up).
    """
    rounds_for = rounds_for or {}
    for name, run in impls.items():
        if name not in rounds_for:  # the capped (slow) ones need no warm-up
            run()
    samples = {name: [] for name in impls}
    names = list(impls)
    for r in range(repeat):
        # Rotate the order, so that no implementation always runs right after
        # another one's leftovers (e.g. PyTorch's OpenMP threads still spinning).
        for name in names[r % len(names):] + names[:r % len(names)]:
            if r >= rounds_for.get(name, repeat):
                continue
            time.sleep(PAUSE_S)
            start = time.perf_counter()
            impls[name]()
            samples[name].append((time.perf_counter() - start) * 1e3)
    return {name: statistics.median(times) for name, times in samples.items()}


def conv_inputs(spec, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(spec["x"]).astype(dtype)
    w = (0.1 * rng.standard_normal(spec["w"])).astype(dtype)
    b = rng.standard_normal(spec["w"][0]).astype(dtype)
    return x, w, b, {"stride": spec["stride"], "pad": spec["pad"]}


def pool_inputs(spec, dtype, seed=0):
    x = np.random.default_rng(seed).standard_normal(spec["x"]).astype(dtype)
    size = spec["pool"]
    return x, {"pool_height": size, "pool_width": size, "stride": spec["stride"]}


def numpy_conv_impls(forward, backward, x, w, b, conv_param):
    out, cache = forward(x, w, b, conv_param)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype)

    def both():
        _, fresh = forward(x, w, b, conv_param)
        backward(dout, fresh)
    return (lambda: forward(x, w, b, conv_param)), (lambda: backward(dout, cache)), both


def numpy_pool_impls(forward, backward, x, pool_param):
    out, cache = forward(x, pool_param)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype)

    def both():
        _, fresh = forward(x, pool_param)
        backward(dout, fresh)
    return (lambda: forward(x, pool_param)), (lambda: backward(dout, cache)), both


def torch_impls(torch, layer, inputs, out_shape):
    """Forward (building the graph, as in training), backward, and both."""
    tensors = [torch.from_numpy(np.ascontiguousarray(a)).requires_grad_() for a in inputs]
    dout = torch.from_numpy(
        np.random.default_rng(1).standard_normal(out_shape).astype(inputs[0].dtype))
    kept = layer(*tensors)

    def clear():
        for t in tensors:
            t.grad = None

    def backward():
        clear()
        kept.backward(dout, retain_graph=True)

    def both():
        clear()
        layer(*tensors).backward(dout)
    return (lambda: layer(*tensors)), backward, both


def torch_conv(torch, spec):
    conv2d = torch.nn.functional.conv2d
    return lambda x, w, b: conv2d(x, w, b, stride=spec["stride"], padding=spec["pad"])


def torch_pool(torch, spec):
    pool = torch.nn.functional.max_pool2d
    return lambda x: pool(x, spec["pool"], stride=spec["stride"])


def bench_conv(case, spec, dtype, repeat, naive, torch):
    x, w, b, conv_param = conv_inputs(spec, dtype)
    impls = {"fast": numpy_conv_impls(fast_layers.conv_forward_fast,
                                      fast_layers.conv_backward_fast, x, w, b, conv_param)}
    if naive is not None:
        impls["naive"] = numpy_conv_impls(naive.conv_forward_naive, naive.conv_backward_naive,
                                          x, w, b, conv_param)
    if torch is not None:
        out_shape = fast_layers.conv_forward_fast(x, w, b, conv_param)[0].shape
        impls["torch"] = torch_impls(torch, torch_conv(torch, spec), (x, w, b), out_shape)
    return time_ops(case, impls, repeat)


def bench_pool(case, spec, dtype, repeat, naive, torch):
    x, pool_param = pool_inputs(spec, dtype)
    impls = {"fast": numpy_pool_impls(fast_layers.max_pool_forward_fast,
                                      fast_layers.max_pool_backward_fast, x, pool_param)}
    if naive is not None:
        impls["naive"] = numpy_pool_impls(naive.max_pool_forward_naive,
                                          naive.max_pool_backward_naive, x, pool_param)
    if torch is not None:
        out_shape = fast_layers.max_pool_forward_fast(x, pool_param)[0].shape
        impls["torch"] = torch_impls(torch, torch_pool(torch, spec), (x,), out_shape)
    return time_ops(case, impls, repeat)


def time_ops(case, impls, repeat):
    """Rows forward / backward / forward+backward, each timed in interleaved rounds."""
    rows = []
    for index, op in enumerate(("forward", "backward", "fwd+bwd")):
        if op == "fwd+bwd" and "naive" in impls:
            continue  # the naive sum adds nothing but minutes
        runs = {name: ops[index] for name, ops in impls.items()}
        medians = time_rounds(runs, repeat, {"naive": min(repeat, NAIVE_ROUNDS)})
        rows.append(Row(case, op, medians))
    return rows


def format_table(rows):
    header = ("case", "op", "naive ms", "fast ms", "torch ms", "naive/fast", "fast/torch")
    lines = ["%-30s %-9s %10s %9s %9s %11s %11s" % header]

    def ms(value):
        return "%.2f" % value if value is not None else "-"

    def ratio(top, bottom):
        return "%.2fx" % (top / bottom) if top is not None and bottom is not None else "-"
    for row in rows:
        naive, fast, torch = (row.medians.get(k) for k in ("naive", "fast", "torch"))
        lines.append("%-30s %-9s %10s %9s %9s %11s %11s" % (
            row.case, row.op, ms(naive), ms(fast), ms(torch),
            ratio(naive, fast), ratio(fast, torch)))
    return "\n".join(lines)


# (case, op, numerator, denominator, bound, "<=" or ">="): the speed goals.
GOALS = [
    ("handout conv x100x3x31x31 f64", "forward", "naive", "fast", 17.0, ">="),
    ("handout conv x100x3x31x31 f64", "backward", "naive", "fast", 840.0, ">="),
    ("train conv x200x3x32x32 f32", "fwd+bwd", "fast", "torch", 0.75, "<="),
    ("train pool x200x64x32x32 f32", "fwd+bwd", "fast", "torch", 1.5, "<="),
]


def format_goals(rows):
    """One line per goal whose timings were measured: ratio, bound, met or not."""
    lines = []
    by_key = {(row.case, row.op): row.medians for row in rows}
    for case, op, top, bottom, bound, sense in GOALS:
        medians = by_key.get((case, op), {})
        if top not in medians or bottom not in medians:
            continue
        ratio = medians[top] / medians[bottom]
        met = ratio >= bound if sense == ">=" else ratio <= bound
        lines.append("goal %s %s %s/%s %s %gx: %.2fx %s" % (
            case, op, top, bottom, sense, bound, ratio, "met" if met else "NOT MET"))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11,
                        help="timed rounds per measurement (naive: at most %d)" % NAIVE_ROUNDS)
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch rows")
    args = parser.parse_args(argv)

    # As in training (the Solver sets it): freed big arrays stay in the heap, so
    # neither side pays fresh page faults for every output (both run in this process).
    from cs231n.allocator import keep_freed_memory
    kept = keep_freed_memory()
    threads = blas_threads()
    naive = import_naive()
    torch = None if args.no_torch else import_torch(threads)
    print("load average (1 min) at the start: %.2f on %d CPUs (other work skews timings)"
          % (os.getloadavg()[0], os.cpu_count()))
    print(machine.describe(threads))
    print("numpy %s, BLAS threads %d, compiled kernels: %s, naive reference: %s, torch: %s, "
          "freed memory kept as in training: %s"
          % (np.__version__, threads, "yes" if fast_layers.HAVE_COMPILED else "NO (numpy fallback)",
             "yes" if naive else "not found",
             "%s (%d threads)" % (torch.__version__, torch.get_num_threads()) if torch else "no",
             "yes" if kept else "no"))
    rows = []
    rows += bench_conv("handout conv x100x3x31x31 f64", HANDOUT_CONV, np.float64,
                       args.repeat, naive, torch)
    rows += bench_pool("handout pool x100x3x32x32 f64", HANDOUT_POOL, np.float64,
                       args.repeat, naive, torch)
    for dtype in (np.float32, np.float64):
        tag = "f32" if dtype == np.float32 else "f64"
        rows += bench_conv("train conv x200x3x32x32 %s" % tag, TRAIN_CONV, dtype,
                           args.repeat, None, torch)
        rows += bench_pool("train pool x200x64x32x32 %s" % tag, TRAIN_POOL, dtype,
                           args.repeat, None, torch)
    print(format_table(rows))
    print(format_goals(rows))
    print("load average (1 min) at the end: %.2f on %d CPUs" % (os.getloadavg()[0], os.cpu_count()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
