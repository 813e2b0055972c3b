"""Benchmark a class run: `python -m autograder.benchmark [--size 40] [--jobs N] [--baseline DIR]`.

Grades a synthetic class of `--size` correct submissions (the reference nndl with
harmless textual differences and the release notebooks, half of them zipped, each
with a model of the reference CNN's size: 64 3x3 filters, batchnorm, hidden 500,
8.3M float32 weights, 33 MB) in one class run, `python -m autograder grade` in a
child process, and prints seconds per submission (median; the timing item, the
accuracy item and the rest apart), class throughput, projected wall time for 700
submissions and peak memory (resident, the grader and all its workers).

With `--baseline DIR` (another checkout of the kit, e.g. `git worktree add DIR
<commit>`), a class of the same size is first graded by that checkout's
autograder, under the same seed, spec, model and data, and the table gives both
runs side by side with the ratio: the noise of this shared machine is the same
for both. Each class is built from its checkout's own reference nndl and release
notebooks, so each is a correct class of its day (a reference calling a cs231n
function that the older kit lacks would fail there for that reason alone).

The model: the reference ThreeLayerConvNet at the reference's size, trained for
20 iterations on 2000 images (about 30% validation accuracy, a few seconds), so
the accuracy item does the work of a real model (load 33 MB, predict 2000
images) while its thresholds are scaled to it (full credit at 18%, none at 10%,
as in the tests' fixture): every item of the reference, the accuracy included,
is then at full marks. `--also CLASS_DIR` also grades another class folder with
this checkout (the tests' hostile corpus: `python -m tests.hostile.corpus CLASS_DIR
MODEL` writes it; the benchmark never imports the tests). Then the similarity report alone for a class of
`--similarity-size` (700) near-copies with full-size model files: wall time and
peak memory (`--similarity-only` runs just that).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from autograder.batch import throughput
from autograder.kit import NOTEBOOKS
from autograder.results import store
from autograder.spec import SPEC_FILE, SPEC_PATH
from autograder.submission.layout import MODEL_FILE
from autograder.sandbox.session import KIT_ROOT, SOLUTIONS_DIR

PROJECTED_CLASS = throughput.PROJECTED_CLASS
ACCURACY_ID = "cnn.ThreeLayerConvNet.accuracy"
# The reference CNN (CNN.ipynb's final configuration): what a submitted cnn_model.npz holds.
REFERENCE_SHAPE = {"num_filters": 64, "filter_size": 3, "hidden_dim": 500, "use_batchnorm": True}
ACCURACY_SCALED = {"full_credit_at": "0.18", "zero_credit_at": "0.10"}
CLASS_SEED = 20240601


def train_model(path, cifar_dir, num_train=2000, seed=0):
    """The reference ThreeLayerConvNet at the reference's size, briefly trained (one epoch of
    num_train images, batches of 100), saved with model_io; returns its validation accuracy."""
    import numpy as np
    sys.path.insert(0, SOLUTIONS_DIR)
    try:
        from cs231n.data_utils import get_CIFAR10_data
        from cs231n.model_io import save_model
        from cs231n.solver import Solver
        from nndl.cnn import ThreeLayerConvNet
        data = get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=0,
                                cifar10_dir=cifar_dir)
        small = {"X_train": data["X_train"][:num_train], "y_train": data["y_train"][:num_train],
                 "X_val": data["X_val"], "y_val": data["y_val"]}
        np.random.seed(seed)
        model = ThreeLayerConvNet(weight_scale=1e-3, reg=1e-3, **REFERENCE_SHAPE)
        solver = Solver(model, small, update_rule="adam", optim_config={"learning_rate": 1e-3},
                        batch_size=100, num_epochs=1, verbose=False, seed=seed,
                        num_train_samples=100)
        solver.train()
        save_model(model, path)
        return float(solver.best_val_acc)
    finally:
        sys.path.remove(SOLUTIONS_DIR)
        for name in [m for m in sys.modules if m == "nndl" or m.startswith("nndl.")]:
            del sys.modules[name]


def scaled_spec(source, path, thresholds=ACCURACY_SCALED):
    """The spec at `source` with the accuracy item's thresholds replaced, written to path."""
    with open(source) as f:
        text = f.read()
    blocks = re.split(r"(?m)^(?=\[\[item\]\])", text)
    for i, block in enumerate(blocks):
        if 'id = "%s"' % ACCURACY_ID in block:
            for key, value in thresholds.items():
                block = re.sub(r"(?m)^%s = .*$" % key, "%s = %s" % (key, value), block)
            blocks[i] = block
    with open(path, "w") as f:
        f.write("".join(blocks))
    return path


def not_submitted(folder, names):
    """copytree's ignore: a student's nndl holds .py files only, so the reference's copies
    leave out __pycache__ and its instructor-only compiled kernels (_reference_kernels.*)."""
    return {name for name in names if not name.endswith(".py")}


def correct_variant(dest, index, model, checkout=KIT_ROOT):
    """The checkout's reference with harmless differences (a header comment, an unused
    helper), its release notebooks and `model` (hard-linked); odd indices zipped."""
    import zipfile
    folder = os.path.join(dest, "student_%03d" % index)
    shutil.copytree(os.path.join(checkout, "solutions", "nndl"), os.path.join(folder, "nndl"),
                    ignore=not_submitted)
    for name in sorted(os.listdir(os.path.join(folder, "nndl"))):
        path = os.path.join(folder, "nndl", name)
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write("# submitted by student %d\n%s\n\ndef _helper_%d():\n    return %d\n"
                    % (index, text, index, index))
    for name in NOTEBOOKS:
        shutil.copyfile(os.path.join(checkout, "release", name), os.path.join(folder, name))
    os.link(model, os.path.join(folder, MODEL_FILE))
    if index % 2:
        # zipped as collect_submission.py zips (the model stored, the rest deflated)
        with zipfile.ZipFile(folder + ".zip", "w", zipfile.ZIP_DEFLATED) as z:
            for root, _, files in os.walk(folder):
                for name in files:
                    path = os.path.join(root, name)
                    z.write(path, os.path.relpath(path, dest),
                            zipfile.ZIP_STORED if name.endswith(".npz") else None)
        shutil.rmtree(folder)


def full_size_model(path, seed=0):
    """Random weights in the layout and size of the reference CNN's cnn_model.npz (8.3M
    float32 weights, 33 MB), with model_io's text arrays."""
    import numpy as np
    from cs231n import model_io
    rng = np.random.default_rng(seed)
    shapes = {"W1": (64, 3, 3, 3), "b1": (64,), "gamma1": (64,), "beta1": (64,),
              "W2": (64 * 16 * 16, 500), "b2": (500,), "gamma2": (500,), "beta2": (500,),
              "W3": (500, 10), "b3": (10,)}
    arrays = {model_io.PARAM_PREFIX + k: rng.normal(0, 5e-2, v).astype(np.float32)
              for k, v in shapes.items()}
    arrays[model_io.VERSION_KEY] = np.array(model_io.FORMAT_VERSION)
    arrays[model_io.ARGS_KEY] = np.array(json.dumps(REFERENCE_SHAPE))
    np.savez(path, **arrays)


def similarity_class(dest, size, model):
    """`size` submissions for the similarity benchmark: the reference nndl with harmless
    textual differences (so every pair is a near-copy: the most pairs to report), the
    release notebooks, one full-size model file hard-linked into each folder; one in ten
    zipped (the model stored, so building the class stays quick)."""
    import zipfile
    release = os.path.join(KIT_ROOT, "release")
    for index in range(size):
        folder = os.path.join(dest, "student_%03d" % index)
        shutil.copytree(os.path.join(SOLUTIONS_DIR, "nndl"), os.path.join(folder, "nndl"),
                        ignore=not_submitted)
        for name in sorted(os.listdir(os.path.join(folder, "nndl"))):
            with open(os.path.join(folder, "nndl", name), "a") as f:
                f.write("\n\ndef _helper_%d():\n    return %d\n" % (index, index))
        for name in NOTEBOOKS:
            shutil.copyfile(os.path.join(release, name), os.path.join(folder, name))
        os.link(model, os.path.join(folder, MODEL_FILE))
        if index % 10 == 9:
            with zipfile.ZipFile(folder + ".zip", "w", zipfile.ZIP_STORED) as z:
                for root, _, files in os.walk(folder):
                    for name in files:
                        path = os.path.join(root, name)
                        z.write(path, os.path.relpath(path, dest))
            shutil.rmtree(folder)


def similarity_benchmark(work, size, jobs):
    """Time the similarity run of a `size`-submission class; prints its figures."""
    from autograder.similarity.run import run_similarity
    from autograder.spec import load_spec
    classroom, grades = os.path.join(work, "similarity-class"), os.path.join(work, "sim-grades")
    os.makedirs(classroom)
    os.makedirs(grades)
    model = os.path.join(work, "full_size_model.npz")
    full_size_model(model)
    similarity_class(classroom, size, model)
    sources = {os.path.splitext(name)[0]: os.path.join(classroom, name)
               for name in os.listdir(classroom)}
    policy = load_spec().similarity
    with MemorySampler() as memory:
        start = time.monotonic()
        result = run_similarity(grades, sources, policy, jobs=jobs)
        wall = time.monotonic() - start
    print("similarity: %d submissions (each a near-copy of the others, 33 MB models) in "
          "%.1f s wall on %d jobs; %d pairs over %d%%, %d flagged, %d identical models; "
          "peak memory %.2f GB (all processes), %.2f GB largest process"
          % (size, wall, jobs, sum(p.flagged or p.similarity >= policy.list_from
                                   for p in result.pairs), round(100 * policy.list_from),
             len(result.flagged), len(result.model_pairs), memory.peak_total / 2 ** 30,
             memory.peak_single / 2 ** 30))
    if size != PROJECTED_CLASS:  # pairs grow as the square of the class
        print("  projected for %d submissions: %.0f s (pairs scale as n^2, reading as n)"
              % (PROJECTED_CLASS, wall * (PROJECTED_CLASS / size) ** 2))
    return wall


class MemorySampler:
    """Peak resident memory of a process tree (sum over processes, and the largest one), and
    the CPU time its processes used (cpu_seconds: each process's last sample, so a lower
    bound short of at most one interval per process; sandboxed workers are reaped inside
    their pid namespace, so the run's rusage never sees them). root: the tree's top process
    (default: this one)."""

    def __init__(self, interval=0.5, root=None):
        self.interval = interval
        self.root = root or os.getpid()
        self.peak_total = self.peak_single = 0
        self._cpu = {}   # (pid, start time) -> CPU seconds at its last sample
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def cpu_seconds(self):
        return sum(self._cpu.values())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            tree = _tree_stats(self.root)
            sizes = [rss for _, rss, _ in tree]
            self.peak_total = max(self.peak_total, sum(sizes))
            self.peak_single = max(self.peak_single, max(sizes, default=0))
            for process, _, cpu in tree:
                self._cpu[process] = max(cpu, self._cpu.get(process, 0.0))
            self._stop.wait(self.interval)


def _tree_stats(root):
    """[((pid, start time), resident bytes, CPU seconds)] of root and its descendants."""
    children, stats = {}, {}
    page, tick = os.sysconf("SC_PAGE_SIZE"), os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            stats[int(entry)] = ((int(entry), int(fields[19])), int(fields[21]) * page,
                                 (int(fields[11]) + int(fields[12])) / tick)
        except (OSError, IndexError, ValueError):
            continue
    stack, out = [root], []
    while stack:
        pid = stack.pop()
        if pid in stats:
            out.append(stats[pid])
        stack += children.get(pid, [])
    return out


def grade_class(checkout, classroom, grades, spec, cifar_dir, jobs, seed=CLASS_SEED):
    """
    Grade `classroom` with the autograder of `checkout` (its own cs231n and solutions) in a
    child process; returns (results.json dicts, grading wall seconds, peak bytes, CPU
    seconds). The wall time runs from the child's start to the last report written (the
    class summary and the similarity report after it are left out: the similarity
    benchmark times those); the CPU time is the whole run's.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([checkout, os.path.join(checkout, "assignment")])
    env.pop("AUTOGRADER_SOLUTIONS", None)
    command = [sys.executable, "-m", "autograder", "grade", classroom, "--out", grades,
               "--jobs", str(jobs), "--spec", spec, "--seed", str(seed), "--cifar-dir", cifar_dir]
    start = time.time()
    proc = subprocess.Popen(command, cwd=checkout, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    # the grader's tree, not this process; sampled often enough that a short-lived process
    # (the notebook check, about 0.4 s) is seen
    with MemorySampler(interval=0.1, root=proc.pid) as memory:
        _, err = proc.communicate()
    cpu = memory.cpu_seconds
    if proc.returncode != 0:
        raise RuntimeError("grading with %s failed (exit %d): %s"
                           % (checkout, proc.returncode, err[-2000:]))
    reports, last = [], start
    for sid in sorted(os.listdir(grades)):
        data = store.load(os.path.join(grades, sid))
        if data is not None:
            reports.append(data)
            last = max(last, store.written_at(os.path.join(grades, sid)) or last)
    return reports, last - start, memory.peak_total, cpu


def side(label, checkout, work, size, model, cifar_dir, jobs):
    """Grade a class of `size` correct submissions with one checkout; its ClassFigures.

    The class is the checkout's own reference (a correct submission of its day): a
    reference that calls a cs231n function only its own kit has still grades at full
    marks, and both sides get the same number of submissions, zipped alike."""
    kernel = os.path.join(checkout, "assignment", "cs231n")
    if not any(name.startswith("im2col_cython") and name.endswith(".so")
               for name in os.listdir(kernel)):
        raise SystemExit("%s has no compiled im2col_cython: copy this checkout's "
                         "assignment/cs231n/im2col_cython*.so there (or build it in place)"
                         % kernel)
    classroom = os.path.join(work, "class-%s" % label)
    os.makedirs(classroom, exist_ok=True)
    for i in range(size):
        correct_variant(classroom, i, model, checkout)
    source = os.path.join(checkout, "autograder", "spec", SPEC_FILE)
    spec = scaled_spec(source, os.path.join(work, "grading-%s.toml" % label))
    grades = os.path.join(work, "grades-%s" % label)
    reports, wall, peak, cpu = grade_class(checkout, classroom, grades, spec, cifar_dir, jobs)
    figures = throughput.class_figures(reports, wall, peak, cpu_seconds=cpu, cores=jobs)
    errors = sum(1 for r in reports if r.get("extra_data", {}).get("grader_error"))
    print("%s (%s): %d submissions graded in %.1f s wall, %d at 100/100, %d grader errors"
          % (label, checkout, len(reports), wall, sum(1 for r in reports if r["score"] == 100),
             errors), flush=True)
    return figures


def extra_class_run(work, classroom, cifar_dir, jobs):
    """Grade another class folder (e.g. the tests' hostile corpus) with this checkout."""
    grades = os.path.join(work, "extra-grades")
    spec = scaled_spec(str(SPEC_PATH),
                       os.path.join(work, "grading-extra.toml"))
    reports, wall, peak, _ = grade_class(KIT_ROOT, classroom, grades, spec, cifar_dir, jobs)
    figures = throughput.class_figures(reports, wall, peak)
    print("%s: %d submissions in %.1f s wall, median %.1f s each, peak %.2f GB"
          % (classroom, len(reports), wall, figures.median_seconds, figures.peak_gb))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.benchmark",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=40, help="correct submissions (40)")
    parser.add_argument("--jobs", type=int, default=None, help="pool size (default: the cores)")
    parser.add_argument("--baseline", default=None, metavar="DIR",
                        help="another checkout of the kit: grade the class with it first and "
                        "print both runs side by side")
    parser.add_argument("--also", default=None, metavar="CLASS_DIR",
                        help="also grade this class folder with this checkout, e.g. the tests' "
                        "hostile corpus (`python -m tests.hostile.corpus CLASS_DIR MODEL`)")
    parser.add_argument("--keep", default=None, help="keep the class and grades in this folder")
    parser.add_argument("--similarity-size", type=int, default=PROJECTED_CLASS,
                        help="submissions in the similarity benchmark (%(default)s; 0: none)")
    parser.add_argument("--similarity-only", action="store_true",
                        help="run only the similarity benchmark (no grading)")
    args = parser.parse_args(argv)
    from autograder.batch.run import default_jobs
    from cs231n.data_utils import find_cifar10_dir
    cifar_dir = str(find_cifar10_dir())
    jobs = args.jobs or default_jobs()
    work = args.keep or tempfile.mkdtemp(prefix="autograder-benchmark-")
    os.makedirs(work, exist_ok=True)
    try:
        if args.similarity_only:
            similarity_benchmark(work, args.similarity_size, jobs)
            return 0
        model = os.path.join(work, MODEL_FILE)
        start = time.monotonic()
        accuracy = train_model(model, cifar_dir)
        print("model: the reference CNN's size (%s), %.0f%% validation after %.0f s of "
              "training; accuracy thresholds scaled to it (full credit at %s, none at %s)"
              % (", ".join("%s=%s" % kv for kv in REFERENCE_SHAPE.items()), 100 * accuracy,
                 time.monotonic() - start, ACCURACY_SCALED["full_credit_at"],
                 ACCURACY_SCALED["zero_credit_at"]), flush=True)
        print("class: %d correct submissions (each checkout's own reference); %d jobs on %d "
              "cores" % (args.size, jobs, default_jobs()), flush=True)
        before = None
        if args.baseline:
            before = side("before", os.path.abspath(args.baseline), work, args.size, model,
                          cifar_dir, jobs)
        after = side("after", KIT_ROOT, work, args.size, model, cifar_dir, jobs)
        print()
        print(throughput.comparison_table(before, after, jobs))
        if args.also:
            extra_class_run(work, os.path.abspath(args.also), cifar_dir, jobs)
        if args.similarity_size:
            similarity_benchmark(work, args.similarity_size, jobs)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
