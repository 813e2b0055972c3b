"""The calibration class of the similarity report: an honest class and disguised copies.

    python -m tests.autograder.similarity.calibration [--keep DIR]

prints how many honest pairs the spec's [similarity] defaults flag (none should be) and how
many disguised copies (all should be), by the primary measure (graded functions) and, for
contrast, by whole files with nothing treated as common (the report before this measure).

The honest class: students who each wrote conv_layers.py's graded functions independently,
in several styles (the kit's reference, the tests' alternatives/ loops, vectorised and
strided, and the fairness suite's classic template, im2col, einsum, tensordot, kernel
offsets, scalar and float64 styles: tests/fairness/styles.py, used as they are), the rest
of nndl the release's stubs. Four of them start from an earlier year's release (OLD_RELEASE):
other docstrings and banners, more provided set-up lines in every graded function, helper
modules of earlier homeworks and a function copied from the notebook, identical in all four.

The disguised copies, each of another honest student: local names renamed; functions
reordered with new comments; dead code and comments added; loops rewritten as
comprehensions (and names renamed); re-encoded in UTF-7 behind a coding line; padded with
600 KB of comments and a docstring; everything at once.
"""
import argparse
import ast
import random
import re
import shutil
import sys
import tempfile
from pathlib import Path

from tests.autograder.similarity import synthetic
from tests.fairness import styles
from tests.fairness.build import replace_definitions

STUB = (synthetic.RELEASE / "nndl" / "conv_layers.py").read_text()

# Each honest student's conv_layers.py: a whole module, or styles put into the release stub.
WHOLE_MODULES = {name: path for name, path in synthetic.CONV_SOURCES.items()}
STYLE_STUDENTS = {
    "classic": (styles.CONV_FORWARD_CLASSIC, styles.CONV_BACKWARD_CLASSIC,
                styles.POOL_FORWARD_CLASSIC, styles.POOL_BACKWARD_CLASSIC,
                styles.SBN_DIRECT_AXES),
    "im2col": (styles.CONV_IM2COL, styles.POOL_RESHAPE, styles.SBN_STAGED),
    "einsum": (styles.CONV_STRIDED_EINSUM, styles.POOL_STRIDED_ARGMAX,
               styles.SBN_MOVEAXIS_VANILLA),
    "tensordot": (styles.CONV_TENSORDOT_POSITIONS, styles.POOL_UNRAVEL),
    "kernel_offsets": (styles.CONV_KERNEL_OFFSETS, styles.SBN_FLOAT64),
    "scalar": (styles.CONV_FORWARD_SCALAR,),
    "float64": (styles.CONV_FILTER_LOOPS_FLOAT64,),
}
OLD_RELEASE_STUDENTS = ("classic", "im2col", "einsum", "tensordot")

# ---- an earlier year's release ------------------------------------------------------------
OLD_MODULE_DOC = '''"""
This file implements the convolutional layers of the CNN homework (2019 release).
Complete the functions marked with "YOUR CODE HERE"; do not change their signatures.
The helpers at the end of the file come from the notebook, for convenience.
"""
'''
# What the older release provided at the top of each graded function (after its docstring).
OLD_PROVIDED = {
    "conv_forward_naive": (
        "Forward pass of a convolutional layer (older wording).",
        "stride, pad = conv_param['stride'], conv_param['pad']\n"
        "N, C, H, W = x.shape\nF, C, HH, WW = w.shape\n"
        "H_prime = 1 + (H + 2 * pad - HH) // stride\n"
        "W_prime = 1 + (W + 2 * pad - WW) // stride\n"
        "assert (H + 2 * pad - HH) % stride == 0, 'invalid height'\n"),
    "conv_backward_naive": (
        "Backward pass of a convolutional layer (older wording).",
        "x, w, b, conv_param = cache[0], cache[1], cache[2], cache[3]\n"
        "stride, pad = conv_param['stride'], conv_param['pad']\n"
        "num_filts, _, f_height, f_width = w.shape\n"
        "N, C, H, W = x.shape\n"),
    "max_pool_forward_naive": (
        "Forward pass of max pooling (older wording).",
        "pool_height, pool_width = pool_param['pool_height'], pool_param['pool_width']\n"
        "stride = pool_param['stride']\nN, C, H, W = x.shape\n"
        "H_prime = 1 + (H - pool_height) // stride\n"
        "W_prime = 1 + (W - pool_width) // stride\n"),
    "max_pool_backward_naive": (
        "Backward pass of max pooling (older wording).",
        "x, pool_param = cache[0], cache[1]\n"
        "pool_height, pool_width = pool_param['pool_height'], pool_param['pool_width']\n"
        "stride = pool_param['stride']\nN, C, H, W = x.shape\n"),
    "spatial_batchnorm_forward": (
        "Spatial batch normalisation, forward (older wording).",
        "mode = bn_param['mode']\neps = bn_param.get('eps', 1e-5)\n"
        "momentum = bn_param.get('momentum', 0.9)\nN, C, H, W = x.shape\n"),
    "spatial_batchnorm_backward": (
        "Spatial batch normalisation, backward (older wording).",
        "N, C, H, W = dout.shape\ndx_flat = dout.transpose(0, 2, 3, 1).reshape(-1, C)\n"),
}
OLD_BANNER = ("# ================================================================ #\n"
              "# YOUR CODE HERE (2019):\n#   Implement this function; store the results\n"
              "#   in the variables named in the docstring.\n"
              "# ================================================================ #\n")
NOTEBOOK_HELPERS = '''

def rel_error(x, y):
    """ returns relative error """
    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Evaluate a numeric gradient for a function that accepts a numpy array and returns one."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=['multi_index'], op_flags=['readwrite'])
    while not it.finished:
        ix = it.multi_index
        oldval = x[ix]
        x[ix] = oldval + h
        pos = f(x).copy()
        x[ix] = oldval - h
        neg = f(x).copy()
        x[ix] = oldval
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad
'''
# Modules of earlier homeworks that an older release shipped in nndl/.
OLD_HELPER_MODULES = {
    "knn.py": '''import numpy as np


class KNN(object):
    def __init__(self):
        pass

    def train(self, X, y):
        self.X_train = X
        self.y_train = y

    def compute_distances(self, X, norm=None):
        if norm is None:
            norm = lambda x: np.sqrt(np.sum(x ** 2))
        num_test = X.shape[0]
        num_train = self.X_train.shape[0]
        dists = np.zeros((num_test, num_train))
        for i in np.arange(num_test):
            for j in np.arange(num_train):
                dists[i, j] = norm(X[i] - self.X_train[j])
        return dists

    def compute_L2_distances_vectorized(self, X):
        num_test = X.shape[0]
        num_train = self.X_train.shape[0]
        test_sq = np.sum(X ** 2, axis=1, keepdims=True)
        train_sq = np.sum(self.X_train ** 2, axis=1)
        cross = X.dot(self.X_train.T)
        return np.sqrt(np.maximum(test_sq + train_sq - 2 * cross, 0))

    def predict_labels(self, dists, k=1):
        num_test = dists.shape[0]
        y_pred = np.zeros(num_test)
        for i in np.arange(num_test):
            closest_y = self.y_train[np.argsort(dists[i])[:k]]
            values, counts = np.unique(closest_y, return_counts=True)
            y_pred[i] = values[np.argmax(counts)]
        return y_pred
''',
    "softmax.py": '''import numpy as np


class Softmax(object):
    def __init__(self, dims=[10, 3073]):
        self.init_weights(dims=dims)

    def init_weights(self, dims):
        self.W = np.random.normal(size=dims) * 0.0001

    def loss(self, X, y):
        scores = self.W.dot(X.T)
        scores -= np.max(scores, axis=0)
        probs = np.exp(scores) / np.sum(np.exp(scores), axis=0)
        return -np.mean(np.log(probs[y, np.arange(X.shape[0])]))

    def loss_and_grad(self, X, y):
        num_train = X.shape[0]
        scores = self.W.dot(X.T)
        scores -= np.max(scores, axis=0)
        probs = np.exp(scores) / np.sum(np.exp(scores), axis=0)
        loss = -np.mean(np.log(probs[y, np.arange(num_train)]))
        probs[y, np.arange(num_train)] -= 1
        grad = probs.dot(X) / num_train
        return loss, grad

    def train(self, X, y, learning_rate=1e-3, num_iters=100, batch_size=200):
        num_train, dim = X.shape
        loss_history = []
        for it in np.arange(num_iters):
            idx = np.random.choice(num_train, batch_size)
            loss, grad = self.loss_and_grad(X[idx], y[idx])
            loss_history.append(loss)
            self.W = self.W - learning_rate * grad
        return loss_history

    def predict(self, X):
        return np.argmax(self.W.dot(X.T), axis=0)
''',
}


def with_old_release(module_text):
    """conv_layers.py as a student who started from OLD_RELEASE writes it: the old module
    docstring, each graded function with the old docstring, banner and provided lines, and
    the notebook's helpers at the end."""
    lines = module_text.splitlines()
    if lines and lines[0].startswith('"""'):   # drop the module docstring (one or more lines)
        end = 0 if lines[0].count('"""') == 2 else next(
            n for n in range(1, len(lines)) if '"""' in lines[n])
        lines = lines[end + 1:]
    tree = ast.parse("\n".join(lines))
    inserts = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in OLD_PROVIDED:
            doc, provided = OLD_PROVIDED[node.name]
            body = node.body[1:] if isinstance(node.body[0], ast.Expr) and \
                isinstance(getattr(node.body[0], "value", None), ast.Constant) else node.body
            inserts[body[0].lineno - 1] = ['    """%s"""' % doc] + [
                "    " + line for line in (provided + OLD_BANNER).splitlines()]
    out = []
    for number, line in enumerate(lines):
        out += inserts.get(number, [])
        out.append(line)
    # the original docstrings go: the old release's stand instead
    text = re.sub(r'(\n    """[^\n]*""")\n    """.*?"""\n', r"\1\n", "\n".join(out), flags=re.S)
    return OLD_MODULE_DOC + text + "\n" + NOTEBOOK_HELPERS


def honest_conv_layers():
    """{student: conv_layers.py text} of the honest class."""
    texts = {name: path.read_text() for name, path in WHOLE_MODULES.items()}
    for name, sources in STYLE_STUDENTS.items():
        text = STUB
        for source in sources:
            text = replace_definitions(text, source)
        texts[name] = with_old_release(text) if name in OLD_RELEASE_STUDENTS else text
    return texts


def final_cell(index):
    """A final CNN.ipynb cell of each student's own choices."""
    rng = random.Random(index)
    return ("model = ThreeLayerConvNet(num_filters=%d, filter_size=%d, hidden_dim=%d, reg=%g)\n"
            "solver = Solver(model, data, num_epochs=%d, batch_size=%d, update_rule='%s',\n"
            "                optim_config={'learning_rate': %g})\n"
            % (rng.choice([16, 32, 48, 64]), rng.choice([3, 5, 7]), rng.choice([100, 200, 500]),
               rng.choice([1e-3, 5e-4, 1e-4]), rng.randint(2, 12), rng.choice([50, 100, 128]),
               rng.choice(["adam", "rmsprop", "sgd_momentum"]), rng.choice([1e-3, 5e-4, 2e-3])))


# ---- the disguises ------------------------------------------------------------------------
def renamed(text, seed):
    """Every parameter and local name renamed (ast), layout reformatted, docstrings kept."""
    tree = synthetic._Renamer(random.Random(seed)).visit(ast.parse(text))
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def with_dead_code(text, seed):
    """A comment and a dead statement or two added after every def line."""
    rng = random.Random(seed)
    out = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        out.append(line)
        if re.match(r"def \w+\(.*\):$", line):
            indent = "    "
            out += [indent + "# worked this out in office hours (%d)" % rng.randint(1, 9),
                    indent + "debug_steps = []",
                    indent + "if len(debug_steps) > %d:" % rng.randint(5, 50),
                    indent + "    print('never', debug_steps)"]
    return "\n".join(out) + "\n"


# The classic template's forward passes with their loops written as comprehensions.
COMPREHENSION_FORWARDS = '''
def conv_forward_naive(x, w, b, conv_param):
    out = None
    stride = conv_param['stride']
    pad = conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), 'constant')
    out = np.array([[[[np.sum(x_pad[n, :, i * stride:i * stride + HH,
                                    j * stride:j * stride + WW] * w[f, :, :, :]) + b[f]
                       for j in range(W_out)] for i in range(H_out)]
                     for f in range(F)] for n in range(N)])
    cache = (x, w, b, conv_param)
    return out, cache


def max_pool_forward_naive(x, pool_param):
    out = None
    N, C, H, W = x.shape
    ph = pool_param['pool_height']
    pw = pool_param['pool_width']
    s = pool_param['stride']
    H_out = 1 + (H - ph) // s
    W_out = 1 + (W - pw) // s
    out = np.array([[[[np.max(x[n, c, i * s:i * s + ph, j * s:j * s + pw])
                       for j in range(W_out)] for i in range(H_out)]
                     for c in range(C)] for n in range(N)])
    cache = (x, pool_param)
    return out, cache
'''


def as_comprehensions(text, seed):
    return renamed(replace_definitions(text, COMPREHENSION_FORWARDS), seed)


def utf7(text, seed):
    return ("# -*- coding: utf-7 -*-\n" + text).encode("utf-7")


def padded(text, seed):
    comment = "# " + "notes " * 15 + "\n"
    docstring = '"""' + ("padding " * 12 + "\n") * 3000 + '"""\n'
    return comment * 3000 + docstring + text


def everything(text, seed):
    return synthetic.disguise_module(with_dead_code(renamed(text, seed), seed), seed)


# copy id -> (original, disguise)
COPIES = {
    "copy_renamed": ("loops", renamed),
    "copy_reordered": ("reference", lambda text, seed: synthetic.disguise_module(text, seed)),
    "copy_dead_code": ("im2col", with_dead_code),
    "copy_comprehensions": ("classic", as_comprehensions),
    "copy_utf7": ("einsum", utf7),
    "copy_padded": ("tensordot", padded),
    "copy_everything": ("vectorised", everything),
}


def write(dest, sid, conv, index, old_release):
    root = synthetic.write_student(dest / sid, "", final_cell(index))
    path = root / "nndl" / "conv_layers.py"
    path.write_bytes(conv if isinstance(conv, bytes) else conv.encode())
    if old_release:
        for name, text in OLD_HELPER_MODULES.items():
            (root / "nndl" / name).write_text(text)
    return str(root)


def make_calibration_class(dest):
    """({id: folder}, honest ids, {(copy, original)}) of the calibration class under dest."""
    dest = Path(dest)
    texts = honest_conv_layers()
    folders = {}
    for index, (sid, text) in enumerate(sorted(texts.items())):
        folders[sid] = write(dest, sid, text, index, sid in OLD_RELEASE_STUDENTS)
    planted = set()
    for index, (sid, (original, disguise)) in enumerate(sorted(COPIES.items())):
        conv = disguise(texts[original], index)
        folders[sid] = write(dest, sid, conv, 100 + index, original in OLD_RELEASE_STUDENTS)
        planted.add(tuple(sorted((sid, original))))
    return folders, sorted(texts), planted


def figures(run, planted):
    """(honest pairs flagged, honest pairs, copies flagged, copies, lowest copy, highest
    honest pair) of a similarity run."""
    honest = [p for p in run.pairs if tuple(sorted((run.ids[p.a], run.ids[p.b]))) not in planted]
    copies = [p for p in run.pairs if tuple(sorted((run.ids[p.a], run.ids[p.b]))) in planted]
    n = len(run.ids)
    all_honest = n * (n - 1) // 2 - len(planted)
    top = max(honest, key=lambda p: p.similarity, default=None)
    low = min(copies, key=lambda p: p.similarity, default=None)
    name = lambda p: "%s / %s %d%%" % (run.ids[p.a], run.ids[p.b], round(100 * p.similarity)) \
        if p else "none"
    return (sum(p.flagged for p in honest), all_honest, sum(p.flagged for p in copies),
            len(planted), len(copies), name(low), name(top))


def calibrate(work, policy, jobs=2):
    """Both runs (the policy; whole files with nothing common) and their figures."""
    from dataclasses import replace

    from autograder.similarity.run import run_similarity
    folders, _, planted = make_calibration_class(Path(work) / "class")
    results = {}
    for label, used in (("graded functions (the spec's defaults)", policy),
                        ("whole files, nothing common (as before)",
                         replace(policy, common_share=1.0, common_min=10 ** 6))):
        grades = Path(work) / ("grades-%d" % len(results))
        grades.mkdir(parents=True)
        run = run_similarity(str(grades), folders, used, jobs=jobs)
        if used is not policy:   # the old report: every pair by whole files
            for pair in run.pairs:
                pair.by_tokens = pair.by_tokens or "as before"
                pair.flagged = pair.similarity >= used.threshold and max(
                    pair.tokens_a, pair.tokens_b) >= used.min_shared_tokens
        results[label] = (run, figures(run, planted))
    return results, planted


def main(argv=None):
    from autograder.spec import load_spec
    parser = argparse.ArgumentParser(prog="python -m tests.autograder.similarity.calibration",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--keep", default=None, help="build the class and reports here")
    args = parser.parse_args(argv)
    work = args.keep or tempfile.mkdtemp(prefix="similarity-calibration-")
    try:
        results, planted = calibrate(work, load_spec().similarity)
        for label, (run, (honest_flagged, honest, copies_flagged, copies, _, low, top)) \
                in results.items():
            print("%s:\n  honest pairs flagged: %d of %d (highest: %s)\n"
                  "  disguised copies flagged: %d of %d (lowest: %s)"
                  % (label, honest_flagged, honest, top, copies_flagged, copies, low))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
