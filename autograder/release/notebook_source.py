"""Authoring aid for the three instructor notebooks in assignment/.

The committed assignment/*.ipynb files are the source of truth: instructors
edit them in Jupyter. This module wrote their first version (cell text, nbgrader
metadata, stable cell ids) and can rewrite them when the cell layout changes:

    python -m autograder.release.notebook_source            # write, no outputs
    python -m autograder.release.notebook_source --execute [NAME...]
        # then run them against the reference (full mode) and keep the outputs
    python -m autograder.release.notebook_source --outputs-from DIR
        # or copy outputs, cell by cell, from notebooks executed elsewhere

The release never runs this module; it reads the committed notebooks. Numbers
quoted in the notebooks (the expected arrays of the fixed-input checks) are
computed here from the reference in solutions/, never typed in.
"""
import argparse
import sys
from pathlib import Path

import nbformat
import numpy as np
from autograder.kit import KIT_ROOT

REPO_ROOT = KIT_ROOT
ASSIGNMENT = REPO_ROOT / "assignment"
SOLUTIONS = REPO_ROOT / "solutions"
NOTEBOOK_NAMES = ("CNN-Layers", "CNN-BatchNorm", "CNN")
SCHEMA_VERSION = 3


# ---- nbgrader cell kinds --------------------------------------------------------
def _nbgrader(grade_id, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked,
            "schema_version": SCHEMA_VERSION, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def markdown(cell_id, text):
    """Read-only instructions."""
    return nbformat.v4.new_markdown_cell(text.strip("\n"), id=cell_id,
                                         metadata=_nbgrader(cell_id, locked=True))


def provided(cell_id, code):
    """Read-only code: nbgrader restores it before grading."""
    return nbformat.v4.new_code_cell(code.strip("\n"), id=cell_id,
                                     metadata=_nbgrader(cell_id, locked=True))


def solution(cell_id, code):
    """A cell the student writes (code between the solution markers is removed)."""
    return nbformat.v4.new_code_cell(code.strip("\n"), id=cell_id,
                                     metadata=_nbgrader(cell_id, solution=True))


def test(cell_id, item_id, points):
    """A graded test cell running the visible spec item `item_id`."""
    # The trailing semicolon keeps check()'s return value out of the cell's
    # output: nbgrader would try to read an execute_result as partial credit.
    code = ('from autograder.notebook import check\n'
            'check("%s");' % item_id)
    return nbformat.v4.new_code_cell(code, id=cell_id, metadata=_nbgrader(
        cell_id, grade=True, locked=True, points=points))


def hidden_test(cell_id, item_id, points, what):
    """A graded test cell whose body only exists in the instructor copy."""
    code = ('# Hidden test (graded after the deadline): %s\n'
            '### BEGIN HIDDEN TESTS\n'
            'from autograder.notebook import check\n'
            'check("%s");\n'
            '### END HIDDEN TESTS' % (what, item_id))
    return nbformat.v4.new_code_cell(code, id=cell_id, metadata=_nbgrader(
        cell_id, grade=True, locked=True, points=points))


def _points():
    """Points per spec item id, so each test cell carries its item's points."""
    import tomllib
    with open(REPO_ROOT / "autograder" / "spec" / "grading.toml", "rb") as f:
        spec = tomllib.load(f)
    return {item["id"]: item["points"] for item in spec["item"]}


def _array_literal(array, fmt="%.8f"):
    """Python source of a nested list holding array's values to 8 decimals."""
    def render(a):
        if a.ndim == 1:
            return "[" + ", ".join(fmt % v for v in a) + "]"
        return "[" + ",\n ".join(render(sub) for sub in a) + "]"
    return render(np.asarray(array))


def _reference_outputs():
    """The fixed-input outputs of the reference, quoted in CNN-Layers."""
    sys.path.insert(0, str(SOLUTIONS))
    from nndl.conv_layers import conv_forward_naive, max_pool_forward_naive
    x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, num=3)
    conv_out, _ = conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})
    x = np.linspace(-0.3, 0.4, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    pool_out, _ = max_pool_forward_naive(x, {"pool_width": 2, "pool_height": 2, "stride": 2})
    return conv_out, pool_out


# ---- shared text ----------------------------------------------------------------
MODES = """
**Environment variables.** `CIFAR10_DIR` points the data loader at your
`cifar-10-batches-py` folder (default: `cs231n/datasets/cifar-10-batches-py`).
`CNN_HOMEWORK_QUICK=1` runs every cell on a small subset with few iterations
(continuous integration uses it; numbers then look worse than quoted).
`NBGRADER_EXECUTION` is set by nbgrader while grading: long cells shrink and the
final training is skipped (your saved model is graded instead).
"""

SETUP_COMMON = '''
import os
import time

import numpy as np
import matplotlib.pyplot as plt

%matplotlib inline
plt.rcParams['figure.figsize'] = (10.0, 8.0)
plt.rcParams['image.interpolation'] = 'nearest'
plt.rcParams['image.cmap'] = 'gray'

# Reload nndl/*.py when you edit them, without restarting the kernel.
%load_ext autoreload
%autoreload 2

# Quick mode (CI) and nbgrader's grading run shrink the long cells.
QUICK = os.environ.get('CNN_HOMEWORK_QUICK') == '1'
GRADING = bool(os.environ.get('NBGRADER_EXECUTION'))
SHORT_RUN = QUICK or GRADING


def rel_error(x, y):
    """Largest relative difference between two arrays (0 when equal)."""
    return np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)))
'''


# ---- CNN-Layers -----------------------------------------------------------------
def layers_notebook(points, conv_out, pool_out):
    cells = [
        markdown("layers-intro", """
# Convolutional layers

In this notebook you implement, in `nndl/conv_layers.py`:

- `conv_forward_naive` and `conv_backward_naive`: a convolution written with loops;
- `max_pool_forward_naive` and `max_pool_backward_naive`: max pooling written with loops.

Then you compare them with the fast versions in `cs231n/fast_layers.py`
(provided) and check the sandwich layers of `nndl/conv_layer_utils.py`, which
also use `relu_forward` and `relu_backward` from `nndl/layers.py`.

Cells that start with `from autograder.notebook import check` are graded tests:
they run the same check as the grader on your code and print what is wrong.
Some graded cells are empty in your copy: they hold hidden tests, run after the
deadline on inputs you have not seen.
""" + MODES),
        provided("layers-setup", "# Setup: imports and a helper to compare arrays.\n"
                 + SETUP_COMMON + '''
from nndl.conv_layers import *
from cs231n.fast_layers import (conv_forward_fast, conv_backward_fast,
                                max_pool_forward_fast, max_pool_backward_fast)
from cs231n.gradient_check import eval_numerical_gradient_array
'''),
        markdown("layers-conv-forward-md", """
## Convolution: naive forward pass

Implement `conv_forward_naive` in `nndl/conv_layers.py`. Loops are fine here:
speed comes later from the fast layers. The cell below runs it on fixed inputs
and compares with the output of the reference solution; the difference should
be about 1e-8 (the expected values are printed to 8 decimals).
"""),
        provided("layers-conv-forward", '''
x_shape = (2, 3, 4, 4)
w_shape = (3, 3, 4, 4)
x = np.linspace(-0.1, 0.5, num=np.prod(x_shape)).reshape(x_shape)
w = np.linspace(-0.2, 0.3, num=np.prod(w_shape)).reshape(w_shape)
b = np.linspace(-0.1, 0.2, num=3)

conv_param = {'stride': 2, 'pad': 1}
out, _ = conv_forward_naive(x, w, b, conv_param)
correct_out = np.array(%s)

print('Testing conv_forward_naive')
print('difference: ', rel_error(out, correct_out))
''' % _array_literal(conv_out)),
        test("layers-conv-forward-test", "conv_layers.conv_forward_naive.forward",
             points["conv_layers.conv_forward_naive.forward"]),
        hidden_test("layers-conv-forward-hidden", "conv_layers.conv_forward_naive.forward_secret",
                    points["conv_layers.conv_forward_naive.forward_secret"],
                    "conv_forward_naive on other shapes (stride, padding, odd sizes)"),
        markdown("layers-conv-backward-md", """
## Convolution: naive backward pass

Implement `conv_backward_naive`. The cell below compares your gradients with
numerical gradients; each relative error should be about 1e-8 or smaller.
"""),
        provided("layers-conv-backward", '''
np.random.seed(231)
x = np.random.randn(4, 3, 5, 5)
w = np.random.randn(2, 3, 3, 3)
b = np.random.randn(2,)
dout = np.random.randn(4, 2, 5, 5)
conv_param = {'stride': 1, 'pad': 1}

dx_num = eval_numerical_gradient_array(lambda x: conv_forward_naive(x, w, b, conv_param)[0], x, dout)
dw_num = eval_numerical_gradient_array(lambda w: conv_forward_naive(x, w, b, conv_param)[0], w, dout)
db_num = eval_numerical_gradient_array(lambda b: conv_forward_naive(x, w, b, conv_param)[0], b, dout)

out, cache = conv_forward_naive(x, w, b, conv_param)
dx, dw, db = conv_backward_naive(dout, cache)

print('Testing conv_backward_naive')
print('dx error: ', rel_error(dx, dx_num))
print('dw error: ', rel_error(dw, dw_num))
print('db error: ', rel_error(db, db_num))
'''),
        test("layers-conv-backward-test", "conv_layers.conv_backward_naive.gradient",
             points["conv_layers.conv_backward_naive.gradient"]),
        markdown("layers-pool-forward-md", """
## Max pooling: naive forward pass

Implement `max_pool_forward_naive`. The difference from the reference output
should be about 1e-8.
"""),
        provided("layers-pool-forward", '''
x_shape = (2, 3, 4, 4)
x = np.linspace(-0.3, 0.4, num=np.prod(x_shape)).reshape(x_shape)
pool_param = {'pool_width': 2, 'pool_height': 2, 'stride': 2}

out, _ = max_pool_forward_naive(x, pool_param)
correct_out = np.array(%s)

print('Testing max_pool_forward_naive')
print('difference: ', rel_error(out, correct_out))
''' % _array_literal(pool_out)),
        test("layers-pool-forward-test", "conv_layers.max_pool_forward_naive.forward",
             points["conv_layers.max_pool_forward_naive.forward"]),
        hidden_test("layers-pool-forward-hidden", "conv_layers.max_pool_forward_naive.forward_secret",
                    points["conv_layers.max_pool_forward_naive.forward_secret"],
                    "max_pool_forward_naive on other shapes and overlapping pools"),
        markdown("layers-pool-backward-md", """
## Max pooling: naive backward pass

Implement `max_pool_backward_naive`. The relative error of dx should be below 1e-10.
"""),
        provided("layers-pool-backward", '''
np.random.seed(231)
x = np.random.randn(3, 2, 8, 8)
dout = np.random.randn(3, 2, 4, 4)
pool_param = {'pool_height': 2, 'pool_width': 2, 'stride': 2}

dx_num = eval_numerical_gradient_array(lambda x: max_pool_forward_naive(x, pool_param)[0], x, dout)

out, cache = max_pool_forward_naive(x, pool_param)
dx = max_pool_backward_naive(dout, cache)

print('Testing max_pool_backward_naive')
print('dx error: ', rel_error(dx, dx_num))
'''),
        test("layers-pool-backward-test", "conv_layers.max_pool_backward_naive.gradient",
             points["conv_layers.max_pool_backward_naive.gradient"]),
        markdown("layers-fast-md", """
## Fast layers

`cs231n/fast_layers.py` holds fast convolution and pooling (im2col with a
compiled Cython kernel; build it with `python setup.py build_ext --inplace`).
The next cells time your naive layers against them: the differences should be
about 1e-10 or smaller and the fast layers hundreds of times faster for the
convolution (pooling gains less when your naive pool already loops only over
windows).
"""),
        provided("layers-fast-conv", '''
np.random.seed(231)
num_images = 20 if SHORT_RUN else 100
x = np.random.randn(num_images, 3, 31, 31)
w = np.random.randn(25, 3, 3, 3)
b = np.random.randn(25,)
dout = np.random.randn(num_images, 25, 16, 16)
conv_param = {'stride': 2, 'pad': 1}

t0 = time.time()
out_naive, cache_naive = conv_forward_naive(x, w, b, conv_param)
t1 = time.time()
out_fast, cache_fast = conv_forward_fast(x, w, b, conv_param)
t2 = time.time()

print('Testing conv_forward_fast:')
print('Naive: %fs' % (t1 - t0))
print('Fast: %fs' % (t2 - t1))
print('Speedup: %fx' % ((t1 - t0) / (t2 - t1)))
print('Difference: ', rel_error(out_naive, out_fast))

t0 = time.time()
dx_naive, dw_naive, db_naive = conv_backward_naive(dout, cache_naive)
t1 = time.time()
dx_fast, dw_fast, db_fast = conv_backward_fast(dout, cache_fast)
t2 = time.time()

print('\\nTesting conv_backward_fast:')
print('Naive: %fs' % (t1 - t0))
print('Fast: %fs' % (t2 - t1))
print('Speedup: %fx' % ((t1 - t0) / (t2 - t1)))
print('dx difference: ', rel_error(dx_naive, dx_fast))
print('dw difference: ', rel_error(dw_naive, dw_fast))
print('db difference: ', rel_error(db_naive, db_fast))
'''),
        provided("layers-fast-pool", '''
np.random.seed(231)
num_images = 20 if SHORT_RUN else 100
x = np.random.randn(num_images, 3, 32, 32)
dout = np.random.randn(num_images, 3, 16, 16)
pool_param = {'pool_height': 2, 'pool_width': 2, 'stride': 2}

t0 = time.time()
out_naive, cache_naive = max_pool_forward_naive(x, pool_param)
t1 = time.time()
out_fast, cache_fast = max_pool_forward_fast(x, pool_param)
t2 = time.time()

print('Testing pool_forward_fast:')
print('Naive: %fs' % (t1 - t0))
print('fast: %fs' % (t2 - t1))
print('speedup: %fx' % ((t1 - t0) / (t2 - t1)))
print('difference: ', rel_error(out_naive, out_fast))

t0 = time.time()
dx_naive = max_pool_backward_naive(dout, cache_naive)
t1 = time.time()
dx_fast = max_pool_backward_fast(dout, cache_fast)
t2 = time.time()

print('\\nTesting pool_backward_fast:')
print('Naive: %fs' % (t1 - t0))
print('fast: %fs' % (t2 - t1))
print('speedup: %fx' % ((t1 - t0) / (t2 - t1)))
print('dx difference: ', rel_error(dx_naive, dx_fast))
'''),
        markdown("layers-sandwich-md", """
## Sandwich layers

`nndl/conv_layer_utils.py` chains the fast convolution, your ReLU and the fast
pool into `conv_relu_pool_forward` / `conv_relu_pool_backward`, and
`conv_relu_forward` / `conv_relu_backward`. The gradient checks below should
show relative errors of about 1e-8 or smaller.
"""),
        provided("layers-conv-relu-pool", '''
from nndl.conv_layer_utils import conv_relu_pool_forward, conv_relu_pool_backward

np.random.seed(231)
x = np.random.randn(2, 3, 16, 16)
w = np.random.randn(3, 3, 3, 3)
b = np.random.randn(3,)
dout = np.random.randn(2, 3, 8, 8)
conv_param = {'stride': 1, 'pad': 1}
pool_param = {'pool_height': 2, 'pool_width': 2, 'stride': 2}

out, cache = conv_relu_pool_forward(x, w, b, conv_param, pool_param)
dx, dw, db = conv_relu_pool_backward(dout, cache)

dx_num = eval_numerical_gradient_array(lambda x: conv_relu_pool_forward(x, w, b, conv_param, pool_param)[0], x, dout)
dw_num = eval_numerical_gradient_array(lambda w: conv_relu_pool_forward(x, w, b, conv_param, pool_param)[0], w, dout)
db_num = eval_numerical_gradient_array(lambda b: conv_relu_pool_forward(x, w, b, conv_param, pool_param)[0], b, dout)

print('Testing conv_relu_pool')
print('dx error: ', rel_error(dx_num, dx))
print('dw error: ', rel_error(dw_num, dw))
print('db error: ', rel_error(db_num, db))
'''),
        provided("layers-conv-relu", '''
from nndl.conv_layer_utils import conv_relu_forward, conv_relu_backward

np.random.seed(231)
x = np.random.randn(2, 3, 8, 8)
w = np.random.randn(3, 3, 3, 3)
b = np.random.randn(3,)
dout = np.random.randn(2, 3, 8, 8)
conv_param = {'stride': 1, 'pad': 1}

out, cache = conv_relu_forward(x, w, b, conv_param)
dx, dw, db = conv_relu_backward(dout, cache)

dx_num = eval_numerical_gradient_array(lambda x: conv_relu_forward(x, w, b, conv_param)[0], x, dout)
dw_num = eval_numerical_gradient_array(lambda w: conv_relu_forward(x, w, b, conv_param)[0], w, dout)
db_num = eval_numerical_gradient_array(lambda b: conv_relu_forward(x, w, b, conv_param)[0], b, dout)

print('Testing conv_relu:')
print('dx error: ', rel_error(dx_num, dx))
print('dw error: ', rel_error(dw_num, dw))
print('db error: ', rel_error(db_num, db))
'''),
        hidden_test("layers-relu-backward-hidden", "layers.relu_backward.gradient",
                    points["layers.relu_backward.gradient"],
                    "relu_backward (nndl/layers.py) on secret inputs"),
        markdown("layers-end", """
## Done

When every check above passes, continue with `CNN-BatchNorm.ipynb`.
"""),
    ]
    return cells


# ---- CNN-BatchNorm --------------------------------------------------------------
def batchnorm_notebook(points):
    return [
        markdown("bn-intro", """
# Spatial batch normalization

Batch normalization for convolutional layers normalises each channel over the
minibatch and over every spatial position: for an input of shape (N, C, H, W)
the statistics of channel c are taken over all N * H * W values of that channel.
Implement `spatial_batchnorm_forward` and `spatial_batchnorm_backward` in
`nndl/conv_layers.py`. They can reuse `batchnorm_forward` and
`batchnorm_backward` from `nndl/layers.py` on an (N*H*W, C) view of the input.
""" + MODES),
        provided("bn-setup", "# Setup: imports and a helper to compare arrays.\n"
                 + SETUP_COMMON + '''
from nndl.conv_layers import spatial_batchnorm_forward, spatial_batchnorm_backward
from cs231n.gradient_check import eval_numerical_gradient_array
'''),
        markdown("bn-forward-md", """
## Forward pass, training mode

After normalisation with gamma = 1 and beta = 0, every channel should have mean
about 0 and standard deviation about 1. With other gamma and beta the means
should be beta and the standard deviations gamma.
"""),
        provided("bn-forward", '''
np.random.seed(231)
N, C, H, W = 2, 3, 4, 5
x = 4 * np.random.randn(N, C, H, W) + 10

print('Before spatial batch normalization:')
print('  Shape: ', x.shape)
print('  Means: ', x.mean(axis=(0, 2, 3)))
print('  Stds: ', x.std(axis=(0, 2, 3)))

gamma, beta = np.ones(C), np.zeros(C)
bn_param = {'mode': 'train'}
out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
print('After spatial batch normalization:')
print('  Shape: ', out.shape)
print('  Means: ', out.mean(axis=(0, 2, 3)))
print('  Stds: ', out.std(axis=(0, 2, 3)))

gamma, beta = np.asarray([3, 4, 5]), np.asarray([6, 7, 8])
out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
print('After spatial batch normalization (nontrivial gamma, beta):')
print('  Shape: ', out.shape)
print('  Means: ', out.mean(axis=(0, 2, 3)))
print('  Stds: ', out.std(axis=(0, 2, 3)))
'''),
        test("bn-forward-test", "conv_layers.spatial_batchnorm_forward.train",
             points["conv_layers.spatial_batchnorm_forward.train"]),
        markdown("bn-test-mode-md", """
## Forward pass, test mode

Training passes update the running mean and variance; a test-mode pass
normalises with them. After many training passes on data from one distribution,
test-mode outputs on fresh data from it should have channel means about 0 and
standard deviations about 1 (noisier than in training mode).
"""),
        provided("bn-test-mode", '''
np.random.seed(231)
N, C, H, W = 10, 4, 11, 12

bn_param = {'mode': 'train'}
gamma = np.ones(C)
beta = np.zeros(C)
for t in range(50):
    x = 2.3 * np.random.randn(N, C, H, W) + 13
    spatial_batchnorm_forward(x, gamma, beta, bn_param)
bn_param['mode'] = 'test'
x = 2.3 * np.random.randn(N, C, H, W) + 13
a_norm, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)

print('After spatial batch normalization (test-time):')
print('  means: ', a_norm.mean(axis=(0, 2, 3)))
print('  stds: ', a_norm.std(axis=(0, 2, 3)))
'''),
        hidden_test("bn-test-mode-hidden", "conv_layers.spatial_batchnorm_forward.test_mode",
                    points["conv_layers.spatial_batchnorm_forward.test_mode"],
                    "spatial_batchnorm_forward in test mode after training passes"),
        markdown("bn-backward-md", """
## Backward pass

Implement `spatial_batchnorm_backward`. The relative errors against numerical
gradients should be about 1e-6 or smaller.
"""),
        provided("bn-backward", '''
np.random.seed(231)
N, C, H, W = 2, 3, 4, 5
x = 5 * np.random.randn(N, C, H, W) + 12
gamma = np.random.randn(C)
beta = np.random.randn(C)
dout = np.random.randn(N, C, H, W)

bn_param = {'mode': 'train'}
fx = lambda x: spatial_batchnorm_forward(x, gamma, beta, bn_param)[0]
fg = lambda a: spatial_batchnorm_forward(x, gamma, beta, bn_param)[0]
fb = lambda b: spatial_batchnorm_forward(x, gamma, beta, bn_param)[0]

dx_num = eval_numerical_gradient_array(fx, x, dout)
da_num = eval_numerical_gradient_array(fg, gamma, dout)
db_num = eval_numerical_gradient_array(fb, beta, dout)

_, cache = spatial_batchnorm_forward(x, gamma, beta, bn_param)
dx, dgamma, dbeta = spatial_batchnorm_backward(dout, cache)
print('dx error: ', rel_error(dx_num, dx))
print('dgamma error: ', rel_error(da_num, dgamma))
print('dbeta error: ', rel_error(db_num, dbeta))
'''),
        test("bn-backward-test", "conv_layers.spatial_batchnorm_backward.gradient",
             points["conv_layers.spatial_batchnorm_backward.gradient"]),
        markdown("bn-end", """
## Done

Continue with `CNN.ipynb`, where the layers come together in a network.
"""),
    ]


# ---- CNN ------------------------------------------------------------------------
FINAL_CONFIG = '''
# Build `model` (a ThreeLayerConvNet) and `solver` (a Solver on `data`) with
# your choice of architecture and hyperparameters. The next cells train it,
# report the validation accuracy and save it.
### BEGIN SOLUTION
from cs231n.data_augmentation import random_horizontal_flip

np.random.seed(231)
model = ThreeLayerConvNet(num_filters=64, filter_size=3, hidden_dim=500,
                          weight_scale=5e-2, reg=1e-3, use_batchnorm=True)
solver = Solver(model, data,
                num_epochs=6, batch_size=200,
                update_rule='adam',
                optim_config={'learning_rate': 1e-3},
                lr_decay=0.7,
                shuffle=True, augment=random_horizontal_flip,
                print_every=50, verbose=True, seed=231)
### END SOLUTION
'''


def cnn_notebook(points):
    return [
        markdown("cnn-intro", """
# A convolutional network on CIFAR-10

You put the layers together in `ThreeLayerConvNet` (`nndl/cnn.py`):

    conv - [spatial batchnorm] - relu - 2x2 max pool - affine - [batchnorm] - relu - affine - softmax

Build it on the fast sandwich layers of `nndl/conv_layer_utils.py` and
`nndl/layer_utils.py`, check it, train it, and finally train a network that
reaches at least 65% validation accuracy and save it as `cnn_model.npz` in this
folder: the grader scores that file.
""" + MODES),
        provided("cnn-setup", "# Setup: imports and a helper to compare arrays.\n"
                 + SETUP_COMMON + '''
from nndl.cnn import ThreeLayerConvNet
from cs231n.data_utils import get_CIFAR10_data
from cs231n.gradient_check import eval_numerical_gradient
from cs231n.model_io import save_model
from cs231n.solver import Solver
from cs231n.vis_utils import visualize_grid
'''),
        markdown("cnn-data-md", """
## Load CIFAR-10

Get the data first (`cs231n/datasets/get_datasets.sh`, see the README). The
images are mean-subtracted and channels-first: (N, 3, 32, 32). In quick mode
and under nbgrader only a subset is loaded.
"""),
        provided("cnn-data", '''
if SHORT_RUN:
    data = get_CIFAR10_data(num_training=300, num_validation=100, num_test=100)
else:
    data = get_CIFAR10_data()
for k, v in data.items():
    print('%s: ' % k, v.shape)
'''),
        markdown("cnn-loss-md", """
## Sanity check: initial loss

With small random weights and no regularisation the softmax loss should be about
log(10) = 2.303; adding regularisation makes it a little larger.
"""),
        provided("cnn-loss", '''
np.random.seed(231)
model = ThreeLayerConvNet()

N = 50
X = np.random.randn(N, 3, 32, 32)
y = np.random.randint(10, size=N)

loss, grads = model.loss(X, y)
print('Initial loss (no regularization): ', loss)

model.reg = 0.5
loss, grads = model.loss(X, y)
print('Initial loss (with regularization): ', loss)
'''),
        hidden_test("cnn-loss-hidden", "cnn.ThreeLayerConvNet.loss.forward",
                    points["cnn.ThreeLayerConvNet.loss.forward"],
                    "ThreeLayerConvNet scores and loss on other image sizes, with and without batchnorm"),
        hidden_test("cnn-softmax-hidden", "layers.softmax_loss.loss",
                    points["layers.softmax_loss.loss"],
                    "softmax_loss (nndl/layers.py) on secret scores, large ones included"),
        hidden_test("cnn-timing-hidden", "cnn.ThreeLayerConvNet.loss.timing",
                    points["cnn.ThreeLayerConvNet.loss.timing"],
                    "ThreeLayerConvNet.loss must be about as fast as the reference (fast layers)"),
        markdown("cnn-gradcheck-md", """
## Gradient check

On a small input in float64, each parameter's relative error against the
numerical gradient should be a few times 1e-2 or smaller (the reference shows
about 2e-2 for W2: ReLU and max pooling kinks make a few entries noisier than
in the layer checks).
"""),
        provided("cnn-gradcheck", '''
num_inputs = 2
input_dim = (3, 16, 16)
reg = 0.0
num_classes = 10
np.random.seed(231)
X = np.random.randn(num_inputs, *input_dim)
y = np.random.randint(num_classes, size=num_inputs)

model = ThreeLayerConvNet(num_filters=3, filter_size=3,
                          input_dim=input_dim, hidden_dim=7,
                          dtype=np.float64)
loss, grads = model.loss(X, y)
for param_name in sorted(grads):
    f = lambda _: model.loss(X, y)[0]
    param_grad_num = eval_numerical_gradient(f, model.params[param_name], verbose=False, h=1e-6)
    e = rel_error(param_grad_num, grads[param_name])
    print('%s max relative error: %e' % (param_name, e))
'''),
        test("cnn-gradcheck-test", "cnn.ThreeLayerConvNet.loss.gradient",
             points["cnn.ThreeLayerConvNet.loss.gradient"]),
        markdown("cnn-overfit-md", """
## Overfit a small dataset

Training on only 100 images for 10 epochs, the training accuracy should climb
to about 80% or more while the validation accuracy stays low (about 20%): the
network memorises the small set.
"""),
        provided("cnn-overfit", '''
np.random.seed(231)
num_train = 100
small_data = {
    'X_train': data['X_train'][:num_train],
    'y_train': data['y_train'][:num_train],
    'X_val': data['X_val'],
    'y_val': data['y_val'],
}

model = ThreeLayerConvNet(weight_scale=1e-2)

solver = Solver(model, small_data,
                num_epochs=10, batch_size=50,
                update_rule='adam',
                optim_config={'learning_rate': 1e-3},
                verbose=True, print_every=1, seed=231)
solver.train()
'''),
        provided("cnn-overfit-plot", '''
plt.subplot(2, 1, 1)
plt.plot(solver.loss_history, 'o')
plt.xlabel('iteration')
plt.ylabel('loss')

plt.subplot(2, 1, 2)
plt.plot(solver.train_acc_history, '-o')
plt.plot(solver.val_acc_history, '-o')
plt.legend(['train', 'val'], loc='upper left')
plt.xlabel('epoch')
plt.ylabel('accuracy')
plt.show()
'''),
        markdown("cnn-epoch-md", """
## Train for one epoch

One epoch over the training set should give a validation accuracy of about 40%
or more (the reference solution: 42.3%, in about 13 minutes on a busy 2-core
machine). In quick mode it runs on the small subset.
"""),
        provided("cnn-epoch", '''
np.random.seed(231)
model = ThreeLayerConvNet(weight_scale=0.001, hidden_dim=500, reg=0.001)

solver = Solver(model, data,
                num_epochs=1, batch_size=50,
                update_rule='adam',
                optim_config={'learning_rate': 1e-3},
                verbose=True, print_every=20, seed=231)
solver.train()
'''),
        markdown("cnn-filters-md", """
## Visualise the first-layer filters

After one epoch the first-layer filters start to look like coloured edges and blobs.
"""),
        provided("cnn-filters", '''
grid = visualize_grid(model.params['W1'].transpose(0, 2, 3, 1))
plt.imshow(grid.astype('uint8'))
plt.axis('off')
plt.gcf().set_size_inches(5, 5)
plt.show()
'''),
        markdown("cnn-final-md", """
## Train your best network (at least 65% validation accuracy)

Choose the architecture and hyperparameters in the next cell and train. Ideas:
smaller filters (3x3) with more of them, batchnorm (`use_batchnorm=True`), a
wider hidden layer, Adam with a learning rate around 1e-3 and a decay per epoch,
batches of 100 to 200, a few epochs, shuffled epochs (`shuffle=True`) and
mirrored training images (`augment=random_horizontal_flip` from
`cs231n.data_augmentation`). Aim for a run of about 10 minutes.

The model is saved with `cs231n.model_io.save_model(model, "cnn_model.npz")`
in this folder. **Submit `cnn_model.npz`**: the autograder (`autograder
grade`, not a test cell of this notebook) rebuilds your `ThreeLayerConvNet`
from it and measures its accuracy on the validation images and on images you
have not seen: full credit at 65% validation accuracy, partial credit above
40%. While nbgrader runs the notebooks, training is skipped and nothing is
saved, so the file you submitted is what counts; in quick mode the training
runs on the small subset.
"""),
        solution("cnn-final-config", FINAL_CONFIG),
        provided("cnn-final-train", '''
if GRADING:
    print('Grading run: training skipped; the submitted cnn_model.npz is scored.')
else:
    if QUICK:
        solver.num_epochs = 1  # quick mode: one pass over the small subset
    solver.train()
'''),
        provided("cnn-final-save", '''
if not GRADING:
    val_acc = solver.check_accuracy(data['X_val'], data['y_val'])
    print('Validation set accuracy: ', val_acc)
    save_model(model, 'cnn_model.npz')
    print('Saved cnn_model.npz (%.1f MB)' % (os.path.getsize('cnn_model.npz') / 2**20))
'''),
    ]


def build_notebooks():
    """name -> nbformat notebook (no outputs)."""
    points = _points()
    conv_out, pool_out = _reference_outputs()
    bodies = {
        "CNN-Layers": layers_notebook(points, conv_out, pool_out),
        "CNN-BatchNorm": batchnorm_notebook(points),
        "CNN": cnn_notebook(points),
    }
    notebooks = {}
    for name, cells in bodies.items():
        nb = nbformat.v4.new_notebook()
        nb.cells = cells
        nb.metadata = {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        }
        nbformat.validate(nb)
        notebooks[name] = nb
    return notebooks


def write_notebooks(directory=ASSIGNMENT):
    """Write the notebooks, keeping the stored outputs of every unchanged cell."""
    paths = []
    for name, nb in build_notebooks().items():
        path = Path(directory) / (name + ".ipynb")
        previous = path.with_suffix(".previous.ipynb")
        if path.exists():
            path.replace(previous)
        nbformat.write(nb, str(path))
        if previous.exists():
            copy_outputs(previous, path)
            previous.unlink()
        paths.append(path)
    return paths


def copy_outputs(executed, target):
    """Put the outputs of an executed notebook into target, cell by cell (same id
    and same source only); returns the ids of the code cells left without."""
    executed = {c.id: c for c in nbformat.read(str(executed), as_version=4).cells}
    nb = nbformat.read(str(target), as_version=4)
    missing = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        done = executed.get(cell.id)
        if done is None or done.source != cell.source or done.execution_count is None:
            missing.append(cell.id)
            continue
        cell.outputs, cell.execution_count = done.outputs, done.execution_count
    nbformat.write(nb, str(target))
    return missing


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", nargs="*", metavar="NAME", default=None,
                        help="run these notebooks (default: all) against the reference in full "
                             "mode and keep their outputs")
    parser.add_argument("--quick", action="store_true",
                        help="execute in quick mode (CNN_HOMEWORK_QUICK=1: small subset, few "
                             "iterations) instead of the full run")
    parser.add_argument("--outputs-from", metavar="DIR",
                        help="take outputs from executed notebooks of the same names in DIR")
    args = parser.parse_args(argv)
    paths = write_notebooks()
    if args.execute is not None:
        from autograder.release.notebook_run import execute_notebook
        for path in paths:
            if args.execute and path.stem not in args.execute:
                continue
            print("executing", path.name, flush=True)
            executed = path.with_suffix(".executed.ipynb")
            execute_notebook(path, executed, reference=True, quick=args.quick, timeout=7200)
            copy_outputs(executed, path)  # outputs only: no timing metadata
            executed.unlink()
    if args.outputs_from:
        for path in paths:
            executed = Path(args.outputs_from) / path.name
            if executed.exists():
                missing = copy_outputs(executed, path)
                print("%s: outputs copied%s" % (path.name, (", not for " + ", ".join(missing))
                                                if missing else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
