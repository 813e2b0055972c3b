"""The student README of the release: set up, get the data, work, self-check, run the
notebooks, submit (and what collect_submission checks)."""
from autograder.checks.kinds.accuracy import FULL_CREDIT_AT

TEMPLATE = """\
# CNN homework: convolutional networks in numpy

You implement convolution, max pooling and spatial batch normalization by hand,
build a three-layer convolutional network and train it past {full_credit}% validation
accuracy on CIFAR-10.

## What is in this folder

| Path | What it is |
|------|------------|
| `CNN-Layers.ipynb`, `CNN-BatchNorm.ipynb`, `CNN.ipynb` | the notebooks, in this order |
| `nndl/` | **your code**: fill in every `# YOUR CODE HERE` |
| `cs231n/` | the provided framework (data loading, solver, fast layers, model saving) |
| `autograder/` | the self-check (`python -m autograder check`) |
| `setup.py` | builds the compiled kernel of the fast layers |
| `collect_submission.py` | checks your work is complete and writes the zip to hand in |

What to implement, file by file (each stub raises `NotImplementedError`
naming the function until you write it):

{todo}

## 1. Set up

Python {python} and numpy {numpy}, the versions the grader runs (`setup.py` asks for
them, and the self-check warns when yours differ: code that works on another numpy
can crash on the grader's, e.g. `np.int` or `np.float_`, which numpy removed). In a
virtual environment:

    pip install "numpy=={numpy}.*" matplotlib jupyter cython setuptools
    python setup.py build_ext --inplace     # or: pip install -e .

The second line compiles `cs231n/im2col_cython.pyx` next to its source. Without
it the fast layers fall back to numpy (slower) and say so once.

## 2. Get the data

    bash cs231n/datasets/get_datasets.sh

downloads CIFAR-10 (about 170 MB) into `cs231n/datasets/cifar-10-batches-py`.
If you already have `cifar-10-python.tar.gz`, pass it instead of downloading:
`bash cs231n/datasets/get_datasets.sh /path/to/cifar-10-python.tar.gz`.
To keep the data elsewhere, set `CIFAR10_DIR` to its `cifar-10-batches-py` folder.

## 3. Work through the notebooks

    jupyter notebook

Open the notebooks in order. Each one says which functions of `nndl/` it
needs; they reload your `.py` files automatically when you edit them. Cells
that run `check("...")` are graded tests: they run the grader's own check on
your code and print what is wrong. Empty graded cells hold hidden tests run
after the deadline on inputs you have not seen.

Environment variables:
- `CIFAR10_DIR`: the data folder (see above).
- `CNN_HOMEWORK_QUICK=1`: every cell runs on a small subset with few
  iterations, to try the whole notebook fast (accuracies are then low). Its
  model is saved as `cnn_model.quick.npz`, never over your `{model_file}`.
- `NBGRADER_EXECUTION`: set by nbgrader when grading; long cells shrink and the
  final training is skipped, so the model you save is what gets scored.
- `OPENBLAS_THREAD_TIMEOUT`: importing `cs231n` before numpy sets it to 4 (the
  notebooks' first cell does), so numpy's BLAS threads sleep between products
  instead of spinning and taking a core from the fast layers' threads: training
  runs about 1.3x faster on 2 cores. In your own scripts, import `cs231n` first.

The last section of `CNN.ipynb` trains your best network and saves it as
`{model_file}` in this folder with `cs231n.model_io.save_model`. Full credit
needs {full_credit}% validation accuracy. {missing_model}

## 4. Check your work

    python -m autograder check

runs the visible checks on the `nndl/` in this folder and prints, per item,
pass or what to fix:

{visible}

Hidden items (other shapes, test mode, speed, the accuracy of your saved
model) are graded after the deadline.

### How an item gives its points: case groups

An item's cases come in named groups, and its points split across the
groups. `core` is the homework's own configuration (the notebook's shapes,
3x3 filters with pad 1, 2x2 pools with stride 2, the default network) and
holds most of the points; each other group moves one thing away from it:
no padding or pad 2, overlapping or non-covering pools, non-square sizes,
float32 inputs, extreme scores, batchnorm or the regularisation inside the
network. A group earns its share when all its cases pass. So a bug that shows
only with pad = 0 costs the `no_padding` share, not the whole item, and code
wrong on the homework's own configuration loses most of it. A feature missing
from the network (batchnorm, the regularisation) fails a group in both network
items but is charged once, and a bug in relu_backward or in softmax_loss's dx
is charged in that function's own item, not again in the network's items.
The report of every item lists its groups, what each earned, and for a
failing group what it cost and a hint.

Writing into an argument (`dout`, `x`, a cache) while returning the right values
costs nothing; the report notes it, because a later call that reads the changed
array computes something else, and that is charged where it shows.

The grader runs the visible items too, on new inputs of the same shapes (from a
secret seed for each grading run), not on the inputs the self-check and the notebooks
use. So a passing self-check and a failing graded case are not a contradiction:
the code works on the inputs you tried but not on others of the same shapes,
for instance when it relies on particular values, on a quirk of those inputs, or
on state left over from an earlier call. Test your functions on inputs of your
own as well.

## 5. Run the notebooks before you hand them in

Hand in the notebooks executed, with their outputs. Either run each one top to
bottom in Jupyter (Kernel > Restart & Run All) and save it, or from this folder:

    jupyter nbconvert --to notebook --execute --inplace CNN-Layers.ipynb CNN-BatchNorm.ipynb CNN.ipynb

`--inplace` writes the outputs into the notebooks themselves. Without it,
nbconvert writes executed copies (`CNN.nbconvert.ipynb`, ...) beside the
unexecuted notebooks; `collect_submission.py` notices and says which file it
hands in. Executing `CNN.ipynb` trains your network again (about 10 minutes) and
saves `{model_file}` anew.

## 6. Submit

    python collect_submission.py

checks the three notebooks, every `nndl/*.py` and `{model_file}`, then writes
`cnn_submission.zip`. Hand in that zip. It checks:

- **Refused** (no zip; `python collect_submission.py --force` writes it anyway,
  with what is there): a file missing or unreadable, an `nndl/*.py` that does
  not compile, a function in `nndl/` still raising its stub's
  `NotImplementedError`, no `{model_file}`. Each of these certainly costs points.
- **Measured**: `{model_file}` is loaded as the grader does (the self-check's
  code) and its validation accuracy and the points it earns are printed; below
  full credit, or a model that cannot be scored, is a warning. Without CIFAR-10
  (set `CIFAR10_DIR`) it says it could not measure the model.
- **Warned** (the zip is written): a notebook with no outputs or only partly
  run, a cell that stopped with an error, the training cell of `CNN.ipynb` still
  the stub, an executed copy `X.nbconvert.ipynb` beside `X.ipynb`. When `X.ipynb`
  has no outputs and the copy is the same notebook executed, the copy goes into
  the zip as `X.ipynb` and the script says so; otherwise it asks (or, without a
  terminal, keeps `X.ipynb` and tells you). `--use-executed` and
  `--use-original` decide for every notebook.
"""


# What a submission without its model gets, by the spec's missing_model (README.md, the
# instructors' README, says the same).
MISSING_MODEL = {
    "zero": ("A submission without `{model_file}` gets 0 of the accuracy points: the "
             "grader scores the model you saved and does not train one for you."),
    "retrain": ("A submission without `{model_file}` is graded on a model the grader trains "
                "by running your `CNN.ipynb` (for up to {minutes} minutes), which may score "
                "lower than the one you trained: hand in your saved model."),
}


def missing_model_text(missing_model, model_file=None, retrain_time_limit=1800.0):
    """The README's sentence on a submission without its model under the spec's missing_model.
    model_file: the accuracy item's (None: the accuracy kind's declared default)."""
    from autograder.spec import default_model_file
    return MISSING_MODEL[missing_model].format(model_file=model_file or default_model_file(),
                                               minutes="%g" % round(retrain_time_limit / 60.0))


def render(todo, visible_items, model_file=None, python="3.11", numpy="2.4",
           missing_model="zero", retrain_time_limit=1800.0, full_credit_at=FULL_CREDIT_AT):
    """README text.

    todo: list of (relative path, [function names]) of the student's work.
    visible_items: list of (item id, points, [(group name, points)]) run by the self-check.
    python, numpy: the grader's minor versions (the spec's [environment]).
    model_file, missing_model, retrain_time_limit: the accuracy item's keys (the model's name,
    what a missing model gets); model_file None: the accuracy kind's declared default.
    full_credit_at: the accuracy item's rule (the validation accuracy of full credit).
    """
    from autograder.spec import default_model_file
    model_file = model_file or default_model_file()
    todo_lines = "\n".join("- `%s`: %s" % (path, ", ".join("`%s`" % n for n in names))
                           for path, names in todo)
    visible_lines = "\n".join("- `%s` (%s points%s)" % (item_id, _points(points), _groups(groups))
                              for item_id, points, groups in visible_items)
    return TEMPLATE.format(todo=todo_lines, visible=visible_lines, model_file=model_file,
                           python=python, numpy=numpy, full_credit="%g" % (100 * full_credit_at),
                           missing_model=missing_model_text(missing_model, model_file,
                                                            retrain_time_limit))


def _points(points):
    return ("%g" % round(points, 2))


def _groups(groups):
    """': core 8, no_padding 1, ...' for an item with case groups ('' for one group)."""
    if len(groups) < 2:
        return ""
    return ": " + ", ".join("`%s` %s" % (name, _points(points)) for name, points in groups)
