"""Train the reference ThreeLayerConvNet configuration on CIFAR-10 and time it.

    python -m cs231n.train_cifar [--epochs N] [--out cnn_model.npz] [--torch]
                                 [--cifar10-dir DIR] [--subset N] [--max-iters N]

Trains the configuration of CNN.ipynb's final section (49,000 training and
1,000 validation images), printing per-epoch time, loss and accuracies with a
progress bar, then the test accuracy, wall time and peak memory, and saves the
model with cs231n.model_io.save_model. With --torch, one training iteration of
the same network in PyTorch (CPU, same threads, batch and optimizer) is timed
in the same run, alternating with ours, and the ratio printed.

The network comes from the `nndl` package on sys.path; run from the kit's
checkout with no nndl importable, the reference in <repo>/solutions is used.
This module is an instructor tool: the student release leaves it out, since it
holds the reference hyperparameters.
"""
import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

# The reference configuration (CNN.ipynb's final section uses exactly this).
REFERENCE_MODEL = dict(num_filters=64, filter_size=3, hidden_dim=500, weight_scale=1e-2,
                       reg=1e-3, use_batchnorm=True, dtype=np.float32)
REFERENCE_SOLVER = dict(update_rule="adam", optim_config={"learning_rate": 1e-3},
                        lr_decay=0.85, batch_size=200, num_epochs=6)


def import_cnn():
    """ThreeLayerConvNet from nndl on sys.path, else from <repo>/solutions."""
    try:
        from nndl.cnn import ThreeLayerConvNet
        return ThreeLayerConvNet
    except ImportError:
        solutions = Path(__file__).resolve().parents[2] / "solutions"
        if not (solutions / "nndl" / "cnn.py").is_file():
            raise
        sys.path.insert(0, str(solutions))
        from nndl.cnn import ThreeLayerConvNet
        return ThreeLayerConvNet


def peak_memory_mb():
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def progress(done, total, started, prefix, width=30, stream=sys.stderr):
    """Draw a one-line progress bar with an ETA (only on a terminal)."""
    if not stream.isatty() and done != total:
        return
    elapsed = time.perf_counter() - started
    eta = elapsed / done * (total - done) if done else 0.0
    filled = int(width * done / total)
    stream.write("\r%s [%s%s] %d/%d  %.0fs, ETA %.0fs" % (
        prefix, "#" * filled, "." * (width - filled), done, total, elapsed, eta))
    if done == total:
        stream.write("\n")
    stream.flush()


def train(data, model_kwargs=None, solver_kwargs=None, max_iters=None, seed=0, log=print):
    """Train a reference model on `data`; returns (model, solver, epoch rows)."""
    from cs231n.solver import Solver

    ThreeLayerConvNet = import_cnn()
    np.random.seed(seed)
    model = ThreeLayerConvNet(**dict(REFERENCE_MODEL, **(model_kwargs or {})))
    settings = dict(REFERENCE_SOLVER, **(solver_kwargs or {}))
    solver = Solver(model, data, verbose=False, seed=seed, **settings)
    num_train = data["X_train"].shape[0]
    per_epoch = max(num_train // solver.batch_size, 1)
    rows, iters = [], 0
    for epoch in range(1, solver.num_epochs + 1):
        started = time.perf_counter()
        losses = []
        for i in range(per_epoch):
            solver._step()
            losses.append(solver.loss_history[-1])
            iters += 1
            progress(i + 1, per_epoch, started, "epoch %d" % epoch)
            if max_iters and iters >= max_iters:
                break
        for config in solver.optim_configs.values():
            config["learning_rate"] *= solver.lr_decay
        seconds = time.perf_counter() - started
        solver.epoch = epoch
        train_acc = solver.check_accuracy(data["X_train"], data["y_train"], num_samples=1000)
        val_acc = solver.check_accuracy(data["X_val"], data["y_val"])
        solver.train_acc_history.append(train_acc)
        solver.val_acc_history.append(val_acc)
        if val_acc > solver.best_val_acc:
            solver.best_val_acc = val_acc
            solver.best_params = {k: v.copy() for k, v in model.params.items()}
        rows.append(dict(epoch=epoch, seconds=seconds, loss=float(np.mean(losses)),
                         train_acc=train_acc, val_acc=val_acc))
        log("epoch %d  %6.1fs  loss %.3f  train %.3f  val %.3f"
            % (epoch, seconds, rows[-1]["loss"], train_acc, val_acc))
        if max_iters and iters >= max_iters:
            break
    model.params.update(solver.best_params)
    return model, solver, rows


def torch_network(model):
    """The same network in PyTorch, initialised from our model's parameters."""
    import torch
    from torch import nn

    p = model.params
    F, C, k, _ = p["W1"].shape
    hidden, classes = p["W3"].shape
    net = nn.Sequential(
        nn.Conv2d(C, F, k, padding=(k - 1) // 2), nn.BatchNorm2d(F, eps=1e-5, momentum=0.1),
        nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(p["W2"].shape[0], hidden), nn.BatchNorm1d(hidden, eps=1e-5, momentum=0.1),
        nn.ReLU(), nn.Linear(hidden, classes))
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(p["W1"]))
        net[5].weight.copy_(torch.from_numpy(p["W2"].T.copy()))
        net[8].weight.copy_(torch.from_numpy(p["W3"].T.copy()))
    return net


def compare_with_torch(data, rounds=20, batch_size=200, log=print):
    """Median ms per training iteration for ours and PyTorch, timed alternately."""
    import torch

    from cs231n.solver import Solver

    threads = _blas_threads()
    torch.set_num_threads(threads)
    ThreeLayerConvNet = import_cnn()
    np.random.seed(0)
    model = ThreeLayerConvNet(**REFERENCE_MODEL)
    solver = Solver(model, data, verbose=False, seed=0, batch_size=batch_size,
                    **{k: v for k, v in REFERENCE_SOLVER.items() if k != "batch_size"})
    net = torch_network(model)
    lr = REFERENCE_SOLVER["optim_config"]["learning_rate"]
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)

    def torch_step():
        idx = rng.integers(0, data["X_train"].shape[0], batch_size)
        xb = torch.from_numpy(data["X_train"][idx])
        yb = torch.from_numpy(data["y_train"][idx].astype(np.int64))
        opt.zero_grad()
        loss = loss_fn(net(xb), yb)
        loss.backward()
        opt.step()

    ours, theirs = [], []
    for _ in range(3):  # warm up caches, allocators and thread pools
        solver._step()
        torch_step()
    for _ in range(rounds):
        t0 = time.perf_counter()
        solver._step()
        t1 = time.perf_counter()
        torch_step()
        t2 = time.perf_counter()
        ours.append((t1 - t0) * 1e3)
        theirs.append((t2 - t1) * 1e3)
    ours_ms, torch_ms = statistics.median(ours), statistics.median(theirs)
    log("iteration (batch %d, float32, %d threads): ours %.1f ms, PyTorch %.1f ms, "
        "ratio %.2fx" % (batch_size, threads, ours_ms, torch_ms, ours_ms / torch_ms))
    return ours_ms, torch_ms


def _blas_threads():
    try:
        from threadpoolctl import threadpool_info
        counts = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
        if counts:
            return max(counts)
    except ImportError:
        pass
    import os
    return os.cpu_count() or 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=REFERENCE_SOLVER["num_epochs"])
    parser.add_argument("--out", default="cnn_model.npz", help="where to save the trained model")
    parser.add_argument("--cifar10-dir", default=None, help="data folder (else CIFAR10_DIR, ...)")
    parser.add_argument("--subset", type=int, default=None, help="train on the first N images")
    parser.add_argument("--max-iters", type=int, default=None, help="stop after N iterations")
    parser.add_argument("--torch", action="store_true", help="time PyTorch on the same network")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from cs231n.data_utils import get_CIFAR10_data
    from cs231n.model_io import save_model

    wall_start = time.perf_counter()
    num_training = args.subset or 49000
    data = get_CIFAR10_data(num_training=num_training, cifar10_dir=args.cifar10_dir)
    print("data: %d train, %d val, %d test, loaded in %.1fs" % (
        len(data["y_train"]), len(data["y_val"]), len(data["y_test"]),
        time.perf_counter() - wall_start))

    torch_row = None
    if args.torch:
        try:
            torch_row = compare_with_torch(data)
        except ImportError:
            print("PyTorch is not installed (pip install torch): skipping the comparison")

    model, solver, rows = train(data, solver_kwargs={"num_epochs": args.epochs},
                                max_iters=args.max_iters, seed=args.seed)
    test_acc = solver.check_accuracy(data["X_test"], data["y_test"])
    val_acc = solver.check_accuracy(data["X_val"], data["y_val"])
    save_model(model, args.out)
    wall = time.perf_counter() - wall_start

    print()
    print("| measure | value |")
    print("| --- | --- |")
    if torch_row:
        print("| ms per iteration, ours / PyTorch | %.1f / %.1f (%.2fx) |"
              % (torch_row[0], torch_row[1], torch_row[0] / torch_row[1]))
    print("| epochs | %d |" % len(rows))
    print("| training time | %.1f s |" % sum(r["seconds"] for r in rows))
    print("| wall time (data loading included) | %.1f s |" % wall)
    print("| best validation accuracy | %.3f |" % val_acc)
    print("| test accuracy | %.3f |" % test_acc)
    print("| peak memory | %.0f MB |" % peak_memory_mb())
    print("saved %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
