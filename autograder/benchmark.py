"""Benchmark a class run: `python -m autograder.benchmark [--size 100] [--jobs N]`.

Grades a synthetic class: `--size` correct submissions (the reference with harmless
textual differences, half of them zipped, sharing one small trained model file) plus
the hostile corpus of tests/hostile (when the repository's tests are present), in one
class run on this machine. Prints submissions per minute, median and p95 seconds per
submission, peak memory, the speedup from reusing the reference's observations under
the class's seed, and the projected wall time for 700 submissions on N workers. Then
the similarity report alone for a class of `--similarity-size` (700) near-copies with
full-size model files: wall time and peak memory (`--similarity-only` runs just that).

The model is the tests' fixture (the reference trained one epoch on 2500 images,
about 25% validation accuracy), so the spec's accuracy thresholds are scaled to it
(full credit at 18%): grading work is the same as with a real model.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time

from autograder.sandbox.session import KIT_ROOT, SOLUTIONS_DIR

PROJECTED_CLASS = 700
PROJECTED_WORKERS = (2, 4, 8, 16, 32)
ACCURACY_ID = "cnn.ThreeLayerConvNet.accuracy"


def train_model(path, cifar_dir, num_train=2500, seed=0):
    """A small reference ThreeLayerConvNet (one epoch on num_train images), saved with model_io."""
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
                 "X_val": data["X_val"][:200], "y_val": data["y_val"][:200]}
        np.random.seed(seed)
        model = ThreeLayerConvNet(num_filters=16, filter_size=5, hidden_dim=100,
                                  weight_scale=1e-3, reg=1e-3)
        Solver(model, small, update_rule="adam", optim_config={"learning_rate": 1e-3},
               batch_size=50, num_epochs=1, verbose=False, seed=seed,
               num_train_samples=100).train()
        save_model(model, path)
    finally:
        sys.path.remove(SOLUTIONS_DIR)
        for name in [m for m in sys.modules if m == "nndl" or m.startswith("nndl.")]:
            del sys.modules[name]


def scaled_spec(path):
    """The kit's spec with the accuracy thresholds scaled to the small model."""
    from autograder.spec import SPEC_PATH
    text = open(SPEC_PATH).read()
    blocks = re.split(r"(?m)^(?=\[\[item\]\])", text)
    for i, block in enumerate(blocks):
        if 'id = "%s"' % ACCURACY_ID in block:
            block = re.sub(r"(?m)^full_credit_at = .*$", "full_credit_at = 0.18", block)
            blocks[i] = re.sub(r"(?m)^zero_credit_at = .*$", "zero_credit_at = 0.10", block)
    with open(path, "w") as f:
        f.write("".join(blocks))
    return path


def correct_variant(dest, index, model):
    """The reference with harmless differences (a header comment, an unused helper)."""
    import zipfile
    folder = os.path.join(dest, "student_%03d" % index)
    shutil.copytree(os.path.join(SOLUTIONS_DIR, "nndl"), os.path.join(folder, "nndl"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in sorted(os.listdir(os.path.join(folder, "nndl"))):
        path = os.path.join(folder, "nndl", name)
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write("# submitted by student %d\n%s\n\ndef _helper_%d():\n    return %d\n"
                    % (index, text, index, index))
    for name in ("CNN-Layers.ipynb", "CNN-BatchNorm.ipynb", "CNN.ipynb"):
        with open(os.path.join(folder, name), "w") as f:
            f.write('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n')
    shutil.copyfile(model, os.path.join(folder, "cnn_model.npz"))
    if index % 2:
        with zipfile.ZipFile(folder + ".zip", "w", zipfile.ZIP_DEFLATED) as z:
            for root, _, files in os.walk(folder):
                for name in files:
                    path = os.path.join(root, name)
                    z.write(path, os.path.relpath(path, dest))
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
    arrays[model_io.ARGS_KEY] = np.array('{"hidden_dim": 500, "num_filters": 64}')
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
                        ignore=shutil.ignore_patterns("__pycache__"))
        for name in sorted(os.listdir(os.path.join(folder, "nndl"))):
            with open(os.path.join(folder, "nndl", name), "a") as f:
                f.write("\n\ndef _helper_%d():\n    return %d\n" % (index, index))
        for name in ("CNN-Layers.ipynb", "CNN-BatchNorm.ipynb", "CNN.ipynb"):
            shutil.copyfile(os.path.join(release, name), os.path.join(folder, name))
        os.link(model, os.path.join(folder, "cnn_model.npz"))
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
          % (size, wall, jobs, len(result.pairs), round(100 * policy.list_from),
             len(result.flagged), len(result.model_pairs), memory.peak_total / 2 ** 30,
             memory.peak_single / 2 ** 30))
    if size != PROJECTED_CLASS:  # pairs grow as the square of the class
        print("  projected for %d submissions: %.0f s (pairs scale as n^2, reading as n)"
              % (PROJECTED_CLASS, wall * (PROJECTED_CLASS / size) ** 2))
    return wall


def hostile_corpus(dest, model, grades, cifar_dir):
    """The tests' hostile corpus (None when the repository's tests are not here)."""
    if KIT_ROOT not in sys.path:
        sys.path.insert(0, KIT_ROOT)
    try:
        from tests.hostile import corpus
    except ImportError:
        return None
    canary = tempfile.mkdtemp(prefix="benchmark-canary-")
    targets = corpus.Targets(canary=canary, port=9, token="benchmark",
                             victim_results=os.path.join(grades, "student_000", "results.json"),
                             cifar_dir=cifar_dir)
    return corpus.build(dest, model, targets)


class MemorySampler:
    """Peak resident memory of this process tree (sum over processes, and the largest one)."""

    def __init__(self, interval=0.5):
        self.interval = interval
        self.peak_total = self.peak_single = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            sizes = [rss for rss in _tree_rss(os.getpid())]
            self.peak_total = max(self.peak_total, sum(sizes))
            self.peak_single = max(self.peak_single, max(sizes, default=0))
            self._stop.wait(self.interval)


def _tree_rss(root):
    children, rss = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    stack, out = [root], []
    while stack:
        pid = stack.pop()
        out.append(rss.get(pid, 0))
        stack += children.get(pid, [])
    return out


def reference_reuse(spec, submission, cifar_dir):
    """Seconds to grade one submission with a cold Grader (reference observed), then warm."""
    from autograder.grade.pipeline import GradeOptions, Grader
    out = tempfile.mkdtemp(prefix="benchmark-reuse-")
    try:
        with Grader(GradeOptions(seed=1, spec_path=spec, cifar_dir=cifar_dir)) as grader:
            times = []
            for i in range(2):
                start = time.monotonic()
                grader.grade(submission, os.path.join(out, str(i)))
                times.append(time.monotonic() - start)
        return times
    finally:
        shutil.rmtree(out, ignore_errors=True)


def percentile(values, share):
    ordered = sorted(values)
    k = (len(ordered) - 1) * share
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.benchmark",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100, help="correct submissions (100)")
    parser.add_argument("--jobs", type=int, default=None, help="pool size (default: the cores)")
    parser.add_argument("--no-hostile", action="store_true", help="leave out the hostile corpus")
    parser.add_argument("--keep", default=None, help="keep the class and grades in this folder")
    parser.add_argument("--similarity-size", type=int, default=PROJECTED_CLASS,
                        help="submissions in the similarity benchmark (%(default)s; 0: none)")
    parser.add_argument("--similarity-only", action="store_true",
                        help="run only the similarity benchmark (no grading)")
    args = parser.parse_args(argv)
    from autograder.batch.run import default_jobs, run_class
    from autograder.grade.pipeline import GradeOptions
    from cs231n.data_utils import find_cifar10_dir
    cifar_dir = str(find_cifar10_dir())
    jobs = args.jobs or default_jobs()
    work = args.keep or tempfile.mkdtemp(prefix="autograder-benchmark-")
    classroom, grades = os.path.join(work, "class"), os.path.join(work, "grades")
    os.makedirs(classroom, exist_ok=True)
    try:
        if args.similarity_only:
            similarity_benchmark(work, args.similarity_size, jobs)
            return 0
        model = os.path.join(work, "cnn_model.npz")
        start = time.monotonic()
        train_model(model, cifar_dir)
        print("fixture model trained in %.0f s" % (time.monotonic() - start))
        spec = scaled_spec(os.path.join(work, "grading.toml"))
        for i in range(args.size):
            correct_variant(classroom, i, model)
        cases = None if args.no_hostile else hostile_corpus(classroom, model, grades, cifar_dir)
        hostile = len(cases or [])
        total = args.size + hostile
        print("class: %d correct + %d hostile submissions; %d jobs on %d cores"
              % (args.size, hostile, jobs, default_jobs()))
        cold, warm = reference_reuse(spec, os.path.join(classroom, "student_000"), cifar_dir)
        print("reference reuse: first submission %.1f s (reference observed), next %.1f s "
              "(observations reused): %.2fx" % (cold, warm, cold / warm))
        options = GradeOptions(spec_path=spec, cifar_dir=cifar_dir, seed=20240601)
        with open(os.devnull, "w") as quiet, MemorySampler() as memory:
            start = time.monotonic()
            run_class([classroom], grades, options, jobs=jobs, out=quiet)
            wall = time.monotonic() - start
        report(grades, wall, total, hostile, jobs, memory, cases)
        if args.similarity_size:  # beside the grading figures (the class run above included
            similarity_benchmark(work, args.similarity_size, jobs)  # its own, smaller one)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def report(grades, wall, total, hostile, jobs, memory, cases):
    seconds, scores, correct_seconds = [], {}, []
    for sid in sorted(os.listdir(grades)):
        path = os.path.join(grades, sid, "results.json")
        if not os.path.isfile(path):
            continue
        with open(path) as f:
            data = json.load(f)
        seconds.append(float(data["execution_time"]))
        scores[sid] = data["score"]
        if sid.startswith("student_"):
            correct_seconds.append(float(data["execution_time"]))
    full = sum(1 for sid, s in scores.items() if sid.startswith("student_") and s == 100)
    print("graded %d submissions in %.1f s wall" % (len(seconds), wall))
    print("throughput: %.1f submissions per minute" % (60.0 * len(seconds) / wall))
    print("seconds per submission: median %.1f, p95 %.1f (correct only: median %.1f, p95 %.1f)"
          % (statistics.median(seconds), percentile(seconds, 0.95),
             statistics.median(correct_seconds), percentile(correct_seconds, 0.95)))
    print("correct submissions at 100/100: %d of %d" % (full, len(correct_seconds)))
    print("peak memory: %.2f GB for the whole run (all processes), %.2f GB largest process"
          % (memory.peak_total / 2 ** 30, memory.peak_single / 2 ** 30))
    per_worker = wall * jobs / max(len(seconds), 1)   # worker-seconds per submission, this mix
    print("projected wall time for %d submissions (this mix, one core per worker):"
          % PROJECTED_CLASS)
    for workers in PROJECTED_WORKERS:
        print("  %3d workers: %6.1f min" % (workers, PROJECTED_CLASS * per_worker / workers / 60))


if __name__ == "__main__":
    sys.exit(main())
