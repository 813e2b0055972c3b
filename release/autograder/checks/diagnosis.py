"""Diagnosis rules: small named functions that turn observations into hints.

Each rule reads plain observations (student's and reference's) and returns a
list of hint strings (empty when it does not apply). Per-case rules take the
mismatches found for the case; cross-case rules look at all cases of an item.
"""
import re

import numpy as np

from autograder import environment
from autograder.checks import numeric
from autograder.checks.cases import tags_of
from autograder.checks.compare import compare_output, relative_error
from autograder.checks.observation import read_json, read_text
from autograder.checks.outcome import Status


def _kinds(mismatches):
    return {m.kind for m in mismatches}


def _close(a, b, tolerance=1e-5):
    """True when arrays a and b have one shape and agree to `tolerance` (relative, floored)."""
    if a is None or b is None or np.shape(a) != np.shape(b):
        return False
    try:
        return relative_error(np.asarray(a, np.float64), np.asarray(b, np.float64), 1e-3) <= tolerance
    except (TypeError, ValueError):
        return False


# ---- per-case rules -----------------------------------------------------------------------

# The hint of a kind of mismatch (compare.Mismatch.kind), whatever the output.
MISMATCH_HINTS = {
    "nan": "NaN appeared in your output where the expected output has none: look for 0/0, "
           "log(0), the square root of a negative number, or exp() overflowing (shift scores "
           "by their row maximum before exp).",
    "shape": "An output has the wrong shape: compare with the shapes in the docstring (e.g. "
             "H' = 1 + (H + 2 * pad - HH) // stride for a convolution, 1 + (H - pool_height) "
             "// stride for pooling) and keep the axis order (N, C, H, W).",
}


def mismatch_hints(mismatches):
    """The hints of the kinds of mismatch found (NaN, then shape)."""
    found = _kinds(mismatches)
    return [hint for kind, hint in MISMATCH_HINTS.items() if kind in found]


def wrong_return_type(student, keys):
    hints = []
    for key in keys:
        type_name = read_text(student, "diag.type." + key, "")
        if type_name:
            hints.append("%s should be a numpy array, but your code returned a %s." % (key, type_name))
    return hints


def writes_into_inputs(student):
    """The student's code changed an array it was given."""
    entries = read_json(student, "mutated", None) or []
    if not entries:
        return []
    return ["%s wrote into its argument %s: the caller's array changed. Compute into a new array "
            "(e.g. dx = dout.copy() before editing, or np.where(x > 0, dout, 0)); never assign "
            "into an input or use in-place operators (+=, *=, [...] =) on it."
            % tuple(entry.split(": ", 1)) if ": " in entry else entry for entry in entries]


def debug_printing(student, limit_kb):
    """(notes, failed): printed output is a note, and fails the case above the output cap."""
    try:
        chars = int(np.asarray(student.get("stdout.chars", 0)))
    except (TypeError, ValueError):
        chars = 0
    if chars <= 0:
        return [], False
    head = read_text(student, "stdout.head", "").strip().splitlines()
    first = (" (first line: %r)" % head[0][:80]) if head else ""
    over = chars > limit_kb * 1024
    note = ("Your code printed %d characters%s. Remove debug prints from nndl/: printing "
            "slows the loops down%s." % (chars, first,
                                         ", and the grader caps output at %d KB" % limit_kb if over else ""))
    return [note], over


def parameter_shapes(error_info):
    """The model's parameters do not have the documented shapes (often W2 for non-32 images)."""
    if not error_info or error_info.get("type") != "ParameterMismatch":
        return []
    message = error_info.get("message", "")
    if "'W2'" in message:
        return ["W2 has shape (num_filters * (H // 2) * (W // 2), hidden_dim): the convolution "
                "keeps the image size (padding (filter_size - 1) // 2, stride 1) and the 2x2 pool "
                "halves it, rounding down; compute it from input_dim, not for 32x32 images only."]
    return ["Create exactly the parameters listed in ThreeLayerConvNet's docstring, with those "
            "shapes (and gamma1, beta1, gamma2, beta2 only with use_batchnorm)."]


# ---- hints on a crash: code written for another numpy or for Python 2 ------------------------

# numpy names removed since (the version that removed them, what to write instead). numpy 1.24
# removed the aliases of builtins deprecated in 1.20; numpy 2.0 the names of NEP 52.
REMOVED_NUMPY_NAMES = {
    "int": ("1.24", "the builtin int (or np.int64)"),
    "float": ("1.24", "the builtin float (or np.float64)"),
    "bool": ("1.24", "the builtin bool (or np.bool_)"),
    "object": ("1.24", "the builtin object (or np.object_)"),
    "complex": ("1.24", "the builtin complex (or np.complex128)"),
    "str": ("1.24", "the builtin str (or np.str_)"),
    "long": ("1.24", "the builtin int (or np.int64)"),
    "unicode": ("1.24", "the builtin str (or np.str_)"),
    "float_": ("2.0", "np.float64"),
    "complex_": ("2.0", "np.complex128"),
    "NaN": ("2.0", "np.nan"),
    "NAN": ("2.0", "np.nan"),
    "Inf": ("2.0", "np.inf"),
    "Infinity": ("2.0", "np.inf"),
    "infty": ("2.0", "np.inf"),
    "PINF": ("2.0", "np.inf"),
    "NINF": ("2.0", "-np.inf"),
    "PZERO": ("2.0", "0.0"),
    "NZERO": ("2.0", "-0.0"),
    "product": ("2.0", "np.prod"),
    "cumproduct": ("2.0", "np.cumprod"),
    "alltrue": ("2.0", "np.all"),
    "sometrue": ("2.0", "np.any"),
    "asfarray": ("2.0", "np.asarray(x, dtype=np.float64)"),
    "round_": ("2.0", "np.round"),
    "string_": ("2.0", "np.bytes_"),
    "unicode_": ("2.0", "np.str_"),
    "int0": ("2.0", "np.intp"),
    "uint0": ("2.0", "np.uintp"),
    "bool8": ("2.0", "np.bool_"),
    "object0": ("2.0", "np.object_"),
    "str0": ("2.0", "np.str_"),
    "bytes0": ("2.0", "np.bytes_"),
    "void0": ("2.0", "np.void"),
    "msort": ("2.0", "np.sort(x, axis=0)"),
    "cast": ("2.0", "np.asarray(x, dtype=...)"),
    "mat": ("2.0", "np.asmatrix"),
    "find_common_type": ("2.0", "np.result_type"),
    "longfloat": ("2.0", "np.longdouble"),
    "singlecomplex": ("2.0", "np.complex64"),
    "cfloat": ("2.0", "np.complex128"),
    "longcomplex": ("2.0", "np.clongdouble"),
    "clongfloat": ("2.0", "np.clongdouble"),
}

# How numpy says a name is gone: Python's own AttributeError (aliases of builtins, names
# removed outright), or numpy 2's message for the names of NEP 52.
_MISSING_NUMPY_NAME = (re.compile(r"module 'numpy' has no attribute '(\w+)'"),
                       re.compile(r"`np\.(\w+)` was removed in the NumPy"))


def removed_numpy_name(error_info, grader_numpy=""):
    """The code used a numpy name that numpy removed (np.int, np.float_, np.NaN...): which one,
    since when and what to write instead. grader_numpy: the declared series (item extras)."""
    if not error_info or error_info.get("type") != "AttributeError":
        return []
    message = error_info.get("message", "")
    for pattern in _MISSING_NUMPY_NAME:
        found = pattern.search(message)
        if found and found.group(1) in REMOVED_NUMPY_NAMES:
            name = found.group(1)
            removed_in, instead = REMOVED_NUMPY_NAMES[name]
            return ["np.%s was removed in numpy %s (the grader runs numpy %s; your numpy may be "
                    "older): use %s." % (name, removed_in, environment.grader_numpy(grader_numpy),
                                         instead)]
    return []


# Python 3 messages of a float where an integer is needed: a size or an index computed with /.
_FLOAT_WHERE_INTEGER = (
    ("TypeError", "slice indices must be integers"),
    ("TypeError", "object cannot be interpreted as an integer"),
    ("TypeError", "expected a sequence of integers or a single integer"),
    ("IndexError", "only integers, slices"),
)
# Python 2 names that Python 3 does not have: (error type, message part, what to write instead).
_PYTHON2_NAMES = (
    ("NameError", "name 'xrange' is not defined", "xrange is Python 2: use range"),
    ("AttributeError", "has no attribute 'iteritems'", "dict.iteritems() is Python 2: use .items()"),
    ("AttributeError", "has no attribute 'itervalues'", "dict.itervalues() is Python 2: use .values()"),
    ("AttributeError", "has no attribute 'iterkeys'", "dict.iterkeys() is Python 2: use .keys()"),
    ("AttributeError", "has no attribute 'has_key'", "dict.has_key(k) is Python 2: use k in d"),
)


def python2_idioms(error_info):
    """The code crashed on a Python 2 habit: a float size or index from `/`, or a name
    Python 3 does not have (xrange, dict.iteritems)."""
    if not error_info:
        return []
    error_type, message = error_info.get("type"), error_info.get("message", "")
    if any(error_type == kind and part in message for kind, part in _FLOAT_WHERE_INTEGER):
        return ["`/` is true division in Python 3 (it always gives a float): use // (or "
                "int(...)) for sizes and indices."]
    return [instead + "." for kind, part, instead in _PYTHON2_NAMES
            if error_type == kind and part in message]


def crash_hints(error_info, grader_numpy=""):
    """Every hint on a crash of the student's code (the rules above and parameter_shapes)."""
    return (parameter_shapes(error_info) + removed_numpy_name(error_info, grader_numpy)
            + python2_idioms(error_info))


def softmax_fudge_epsilon(case, student, reference, mismatches):
    """The loss is too small only where a probability is tiny: log(p + eps) or clipping."""
    if "tiny_probabilities" not in tags_of(case):
        return []
    if not any(m.key == "loss" and m.kind == "value" for m in mismatches):
        return []
    try:
        s, r = float(np.asarray(student["loss"])), float(np.asarray(reference["loss"]))
    except (KeyError, TypeError, ValueError):
        return []
    if not (np.isfinite(s) and s < r):
        return []
    return ["The loss is too small exactly where the correct class has a tiny probability: "
            "an epsilon inside the log (log(p + eps)) or a clipped probability caps each "
            "example's loss. Compute log-probabilities as shifted - log(sum(exp(shifted))), "
            "with shifted = scores - max(scores), and no epsilon."]


def gradient_reaches_zero_entries(function, key, student, reference, mismatches):
    """The student's gradient is non-zero where the expected one is exactly zero (e.g. a
    max pool backward that spreads dout over the whole window instead of its maximum)."""
    if not any(m.key == key and m.kind == "value" for m in mismatches):
        return []
    try:
        s = np.asarray(student.get(key), dtype=np.float64)
        r = np.asarray(reference[key], dtype=np.float64)
    except (KeyError, TypeError, ValueError):
        return []
    if s.shape != r.shape or not np.any(r == 0):
        return []
    stray = np.count_nonzero((r == 0) & (s != 0))
    if stray < max(1, 0.05 * np.count_nonzero(r == 0)):
        return []
    if "max_pool" in function:
        return ["%s is non-zero at %d entries where the expected gradient is zero: each "
                "window's dout goes only to the entry that was the window's maximum (the "
                "argmax, or a mask x == max of the window), not to every entry of the window."
                % (key, stray)]
    return ["%s is non-zero at %d entries where the expected gradient is exactly zero: the "
            "gradient reaches inputs that do not affect the output." % (key, stray)]


def batchnorm_normalisation(case, student, mismatches):
    """Train-mode spatial batchnorm whose output matches a known variant of the
    normalisation: no eps, eps outside the square root, or the unbiased variance."""
    if "warmup.x" in case or not any(m.key == "out" and m.kind == "value" for m in mismatches):
        return []
    try:
        x = np.asarray(case["x"], dtype=np.float64)
        gamma = np.asarray(case["gamma"], dtype=np.float64).reshape(1, -1, 1, 1)
        beta = np.asarray(case["beta"], dtype=np.float64).reshape(1, -1, 1, 1)
        eps = float(np.asarray(case.get("bn_param.eps", 1e-5)))
        out = np.asarray(student.get("out"), dtype=np.float64)
        single = np.asarray(case["x"]).dtype == np.float32
    except (KeyError, TypeError, ValueError):
        return []
    if x.ndim != 4 or out.shape != x.shape or x.shape[0] * x.shape[2] * x.shape[3] < 2:
        return []
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    count = x.shape[0] * x.shape[2] * x.shape[3]
    variants = (
        ("without eps: divide by sqrt(var + eps), with bn_param's eps (default 1e-5), so that "
         "a channel of equal values never divides by zero", np.sqrt(var)),
        ("with eps outside the square root: the denominator is sqrt(var + eps), not "
         "sqrt(var) + eps", np.sqrt(var) + eps),
        ("with the unbiased variance (divided by N*H*W - 1): batchnorm uses the biased "
         "variance, the mean of (x - mean)**2 over axes (0, 2, 3)", np.sqrt(var * count / (count - 1) + eps)),
    )
    for what, denominator in variants:
        with np.errstate(divide="ignore", invalid="ignore"):
            candidate = gamma * (x - mean) / denominator + beta
        if np.all(np.isfinite(candidate)) and _close(out, candidate, 1e-4 if single else 1e-9):
            return ["Your output is the batch normalisation " + what + "."]
    return []


def batchnorm_test_mode(student, reference, mismatches):
    """Spatial batchnorm in test mode after training passes: which part is wrong."""
    if not any(m.key == "out" for m in mismatches):
        return []
    if _close(student.get("out"), reference.get("diag.train_out")):
        return ["In test mode your output equals the train-mode output (the batch's own "
                "statistics): in mode 'test' normalise with bn_param's running_mean and running_var."]
    stats_ok = all(_close(student.get(k), reference.get(k), 1e-4)
                   for k in ("diag.running_mean", "diag.running_var"))
    if not stats_ok:
        return ["Right in train mode, wrong in test mode: after the training passes your running "
                "mean/variance differ from the expected ones. In train mode update them with "
                "running = momentum * running + (1 - momentum) * batch statistic, and store them "
                "back in bn_param (the running statistics are never updated otherwise)."]
    return ["Right in train mode, wrong in test mode: the running statistics are right, but the "
            "test-mode output does not use them as (x - running_mean) / sqrt(running_var + eps)."]


def cnn_test_mode(case, student, reference, mismatches):
    """ThreeLayerConvNet right in train mode (loss, or the scores reaching softmax_loss) but wrong
    in test mode (scores)."""
    keys = {m.key for m in mismatches}
    if "scores" not in keys:
        return []
    if "diag.train_scores" in student and "diag.train_scores" in reference:
        train_ok = _close(student["diag.train_scores"], reference["diag.train_scores"], 1e-6)
    else:  # the model computes its softmax inline: the loss tells
        train_ok = "loss" in student and "loss" not in keys
    if not train_ok:
        return []
    hint = ("ThreeLayerConvNet is right in train mode (the scores it passes to softmax_loss) but "
            "gives wrong scores in test mode (y is None).")
    if "batchnorm" not in tags_of(case):
        return [hint + " Without batchnorm the two passes should compute the same scores."]
    before = sorted(k for k in reference if k.startswith("diag.bn."))
    after = ["diag.bn_test." + k[len("diag.bn."):] for k in before]
    stats_ok = bool(before) and all(_close(student.get(k), reference.get(k), 1e-4) for k in before)
    changed = any(k in student and b in student and not _close(student[k], student[b], 1e-12)
                  for b, k in zip(before, after))
    if changed:
        hint += (" Your loss(X) changed the batchnorm running statistics, so its batchnorm layers "
                 "ran in train mode: set the mode of every bn_param to 'test' when y is None "
                 "(bn_param['mode'] = 'test') before the forward pass.")
    elif stats_ok:
        hint += (" Its batchnorm running statistics are right, so the test-mode pass does not "
                 "use them: check that each bn_param's mode is 'test' when y is None.")
    else:
        hint += (" Its batchnorm running statistics differ after training passes: pass "
                 "the same bn_param dicts to the batchnorm layers on every call (kept in the "
                 "model, e.g. self.bn_params) so their running mean and variance are updated and "
                 "later used in test mode.")
    return [hint]


# ---- training sequences (model_forward cases with "sequence.X") ---------------------------------

def _value_mismatch(mismatches, key):
    return any(m.key == key and m.kind in ("value", "nan") for m in mismatches)


def first_wrong(student, reference, key, tolerance=1e-6):
    """Index along the first axis of the first entry of output `key` that differs from the
    reference's (None when every entry agrees, or the shapes differ)."""
    s, r = student.get(key), reference.get(key)
    if s is None or r is None or np.shape(s) != np.shape(r) or np.ndim(r) == 0:
        return None
    for index in range(np.shape(r)[0]):
        if not _close(np.asarray(s)[index], np.asarray(r)[index], tolerance):
            return index
    return None


def sequence_first_wrong_step(student, reference):
    """The first training step of a sequence that goes wrong: the first loss that differs from
    the reference's, or the step whose backward pass raised (diag.seq.backward_error); None."""
    first = first_wrong(student, reference, "seq.loss")
    error = read_json(student, "diag.seq.backward_error", None)
    if first is None and isinstance(error, dict):
        return int(error.get("step", 0))
    return first


def _test_pass_steps(case):
    """The (0-based) training steps followed by a test-mode pass."""
    return [int(i) for i in np.flatnonzero(np.asarray(case["sequence.test_after"], dtype=bool))]


def _first_step_gradients(student, reference):
    """Whether the first training step's gradients agree with the reference's (True, False), or
    None when the student's step did not return them. Each is compared on the scale of the largest
    gradient: a bias before batchnorm has a gradient of rounding noise only."""
    keys = [k for k in reference if k.startswith("diag.seq.grad.")]
    if not keys or not any(k in student for k in keys):
        return None
    scale = max(float(np.max(np.abs(reference[k]), initial=0.0)) for k in keys)
    for key in keys:
        s, r = student.get(key), reference[key]
        if s is None or np.shape(s) != np.shape(r):
            return False
        try:
            if relative_error(np.asarray(s, np.float64), np.asarray(r, np.float64), 1e-3, scale) > 1e-6:
                return False
        except (TypeError, ValueError):
            return False
    return True


def _first_step_gradients_right(student, reference):
    return _first_step_gradients(student, reference) is True


def sequence_steps(case, student, reference, mismatches):
    """Where a training sequence first goes wrong, as explanation lines."""
    lines = []
    steps = len(np.asarray(case["sequence.test_after"]))
    first = first_wrong(student, reference, "seq.loss") if _value_mismatch(mismatches, "seq.loss") else None
    if first is not None:
        s, r = np.asarray(student["seq.loss"])[first], np.asarray(reference["seq.loss"])[first]
        lines.append("Training step %d of %d gives loss %.8g, expected %.8g%s." % (
            first + 1, steps, s, r,
            " (the steps before it match)" if first else " (the first step already differs)"))
    error = read_json(student, "diag.seq.backward_error", None)
    if isinstance(error, dict):
        step = int(error.get("step", 0))
        lines.append("Training step %d of %d raised %s: %s in the backward pass%s, after its "
                     "forward pass: the training stops there%s." % (
                         step + 1, steps, error.get("type", "an error"), error.get("message", ""),
                         " (in your %s)" % error["at"] if error.get("at") else "",
                         " (the steps before it match)" if step and first is None else ""))
    first_test = first_wrong(student, reference, "seq.scores") \
        if _value_mismatch(mismatches, "seq.scores") else None
    after = _test_pass_steps(case)
    if first_test is not None and first_test < len(after):
        lines.append("The test-mode scores of pass %d (after training step %d) differ from the "
                     "expected ones%s." % (first_test + 1, after[first_test] + 1,
                                           " (the passes before it match)" if first_test else ""))
    return lines


STALE_PARAMS_AFTER_UPDATE = (
    "Right at the first step, wrong after the first update: your loss does not read the updated "
    "self.params (weights copied at __init__?). The Solver replaces every model.params[name] with "
    "a new array after each step; read the weights from self.params in every call to loss.")
STALE_PARAMS = (
    "Your loss does not read self.params: replacing model.params[name] with a new array (as the "
    "Solver's updates do, and the grader when it sets the parameters) leaves your scores "
    "unchanged. Read the weights from self.params in every call to loss (no copies kept from "
    "__init__ or from an earlier call).")


def unread_params(student, reference):
    """The parameters whose replacement by a new array changes the reference's test-mode scores
    but not the student's (diag.seq.reads.<name>); None when the student's probe did not run."""
    prefix = "diag.seq.reads."
    names = sorted(k[len(prefix):] for k in reference if k.startswith(prefix)
                   and bool(np.asarray(reference[k])))
    if not names or not any(k.startswith(prefix) for k in student):
        return None
    return [name for name in names if prefix + name in student
            and not bool(np.asarray(student[prefix + name]))]


def sequence_stale_params(case, student, reference, mismatches):
    """The training losses go wrong once the parameters were replaced: the model computes with
    weights it keeps elsewhere. Evidence: the student's test-mode scores do not change when a
    params entry is replaced by a new array (unread_params); without that probe, right loss and
    gradients at the first step and a wrong second step, with no test-mode pass in between."""
    first = sequence_first_wrong_step(student, reference)
    if first is None:
        return []
    unread = unread_params(student, reference)
    if unread is not None:
        if not unread:
            return []
        which = (" Replacing %s changed nothing." % ", ".join("params[%r]" % n for n in unread))
        return [(STALE_PARAMS_AFTER_UPDATE if first == 1 else STALE_PARAMS) + which]
    tests = _test_pass_steps(case)
    if first == 1 and (not tests or tests[0] >= 1) and _first_step_gradients_right(student, reference):
        return [STALE_PARAMS_AFTER_UPDATE]
    return []


LEFT_IN_TEST_MODE = (
    "Right until the first test-mode pass, wrong in training after it: loss(X) left the model in "
    "test mode (set each bn_param's mode from y on every call: 'test' when y is None, else "
    "'train'), so the training steps after it normalised with the running statistics.")


def sequence_left_in_test_mode(case, student, reference, mismatches):
    """The training losses are right up to the first test-mode pass and wrong after it, and the
    batchnorm layers of those training steps ran in mode 'test' (diag.seq.test_mode_calls)."""
    if "batchnorm" not in tags_of(case):
        return []
    tests = _test_pass_steps(case)
    first = sequence_first_wrong_step(student, reference)
    if not tests or first is None or first <= tests[0]:
        return []
    calls = np.asarray(student.get("diag.seq.test_mode_calls", np.zeros(0)))
    if calls.ndim != 1 or not np.any(calls[tests[0] + 1:] > 0):
        return []
    return [LEFT_IN_TEST_MODE]


def sequence_test_scores(case, student, reference, mismatches):
    """Every training step right, a test-mode pass wrong: which state the test pass reads."""
    if sequence_first_wrong_step(student, reference) is not None or \
            not _value_mismatch(mismatches, "seq.scores"):
        return []
    hint = "Your training steps are right but the test-mode scores (loss(X), y None) are not."
    if "batchnorm" not in tags_of(case):
        return [hint + " Without batchnorm loss(X) computes the scores of loss(X, y)'s forward pass."]
    if np.any(np.asarray(student.get("diag.seq.train_mode_calls", np.zeros(0))) > 0):
        return [hint + " Your loss(X) ran its batchnorm layers in mode 'train' (normalising with "
                "the batch's own statistics, and changing the running ones): set every bn_param's "
                "mode to 'test' when y is None."]
    stats = sorted(k for k in reference if k.startswith("diag.seq.bn."))
    if stats and all(_close(student.get(k), reference[k], 1e-6) for k in stats):
        return [hint + " The running statistics after training are right, so the test-mode pass "
                "does not use them: each bn_param's mode should be 'test' when y is None."]
    return [hint + " The batchnorm running statistics after the training steps differ from the "
            "expected ones: keep one bn_param dict per batchnorm layer on the model (created in "
            "__init__) and pass the same dicts on every call, so that every training step updates "
            "the running mean and variance the test-mode passes use."]


WRONG_GRADIENTS = (
    "The first training step returns other gradients than the expected ones (the gradient item "
    "shows which), so its SGD update moves the parameters elsewhere and the later training steps "
    "and test-mode passes differ: fix the gradients first.")


def sequence_gradients(case, student, reference, mismatches):
    """The sequence fails and the first training step already returned other gradients than the
    reference's: the SGD updates move the parameters elsewhere, whatever the model's state does."""
    if not mismatches or _first_step_gradients(student, reference) is not False:
        return []
    return [WRONG_GRADIENTS]


def sequence_state(case, student, reference, mismatches):
    """A later training step goes wrong although the first step's loss and gradients are right,
    for no reason the rules above name: state carried from one call to the next."""
    first = sequence_first_wrong_step(student, reference)
    if not first or not _first_step_gradients_right(student, reference):
        return []
    return ["Your first training step%s right (loss and gradients) but a later one is not: your "
            "model carries state from one call to the next (values kept on self, such as "
            "gradients or caches, or arrays changed in place). Each loss(X, y) should depend only "
            "on X, y, self.params and the batchnorm running statistics."
            % ("s are" if first > 1 else " is")]


def reg_term(case):
    """0.5 * reg * sum(W**2) over the case's W1, W2, W3 (float64)."""
    reg = float(np.asarray(case.get("init.reg", 0.0)))
    return 0.5 * reg * sum(float(np.sum(np.asarray(case[k], np.float64) ** 2))
                           for k in ("param.W1", "param.W2", "param.W3") if k in case)


def cnn_loss_evidence(case, student, reference, mismatches):
    """
    Evidence about a wrong ThreeLayerConvNet loss (outcome.data for the cross-case rules) and
    its hints: {"regularisation": True} when the data loss that reached softmax_loss is right
    and only the total is wrong (reg > 0); a hint naming softmax_loss when the scores reaching it
    are right but its value is not.
    """
    if not any(m.key == "loss" for m in mismatches):
        return {}
    scores_ok = _close(student.get("diag.train_scores"), reference.get("diag.train_scores"), 1e-6)
    data_ok = _close(student.get("diag.data_loss"), reference.get("diag.data_loss"), 1e-6)
    if scores_ok and data_ok and "reg" in tags_of(case):
        return {"regularisation": True}
    if scores_ok and "diag.data_loss" in student and not data_ok:
        return {"hints": ["The scores your model passes to softmax_loss are right, but the loss "
                          "it returns is not: the bug is in softmax_loss (nndl/layers.py), not in "
                          "the network."]}
    return {}


def regularisation_evidence(case, student, reference, mismatches):
    """{"regularisation": True} when the only wrong gradients are of W1..W3, each off by a
    multiple of its W (a missing, doubled or halved reg * W), in a reg > 0 case."""
    if "reg" not in tags_of(case) or not mismatches:
        return {}
    for m in mismatches:
        name = m.key[len("grad."):]
        if m.kind != "value" or name not in ("W1", "W2", "W3") or "param." + name not in case:
            return {}
        try:
            d = np.asarray(student[m.key], np.float64) - np.asarray(reference[m.key], np.float64)
            w = np.asarray(case["param." + name], np.float64)
            alpha = float(np.sum(d * w) / max(float(np.sum(w * w)), 1e-300))
            if np.linalg.norm(d - alpha * w) > 0.1 * np.linalg.norm(d):
                return {}
        except (KeyError, TypeError, ValueError):
            return {}
    return {"regularisation": True}


def precision_evidence(mismatches):
    """{"precision": True} when every mismatch is a value close to the tolerance (within 100x):
    rounding (a lower-precision computation), not a wrong formula."""
    if mismatches and all(m.kind == "value" and m.error <= 100 * m.tolerance for m in mismatches):
        return {"precision": True}
    return {}


def forward_is_wrong(student, reference, forward_keys):
    """Whether any of the student's forward outputs (forward_keys) differs from the reference's."""
    return any(compare_output(k, student.get(k), reference[k], 1e-6, 1e-6) is not None
               for k in forward_keys if k in reference)


def gradient_source(grad_key, student, reference, forward_keys, probe_prefix, tolerance, scale=0.0):
    """
    For a backward output that differs from the reference: does it agree with the
    numerical gradient of the student's own forward? Returns one explanation.
    """
    agrees, error = numeric.agreement(student.get(grad_key), student, probe_prefix, tolerance, scale)
    forward_wrong = forward_is_wrong(student, reference, forward_keys)
    if agrees is None:
        return ("(no numerical check on this case)" if not forward_wrong else
                "Your forward output is wrong here too; fix the forward first.")
    if agrees and forward_wrong:
        return ("Your backward matches the numerical gradient of your forward, but your forward "
                "is wrong, so fix the forward first (the backward then has to follow it).")
    if agrees:
        return ("Your backward agrees with the numerical gradient of your forward at the probed "
                "entries but not with the expected gradient everywhere: look at the entries the "
                "probes missed (edges, padding, overlapping windows).")
    if forward_wrong:
        return ("Both are wrong: your forward differs from the expected output, and your backward "
                "disagrees with the numerical gradient of your forward (relative error %.1e)." % error)
    return ("Your backward disagrees with the numerical gradient of your forward (relative error "
            "%.1e), while your forward's output matches the expected one: look for the bug in "
            "the backward pass first." % error)


# ---- cross-case rules -----------------------------------------------------------------------

def regularisation(cases, outcomes):
    """A reg > 0 case failed with evidence that only the regularisation is off (outcome.data)."""
    reg0 = [o for c, o in zip(cases, outcomes) if "reg0" in tags_of(c)]
    evidence = [o for c, o in zip(cases, outcomes) if "reg" in tags_of(c)
                and o.status == Status.FAILED and o.data.get("regularisation")]
    if not evidence:
        return []
    rule = ("check the regularisation term, loss += 0.5 * reg * sum(W**2) over W1, W2 and W3, "
            "and grads[W] += reg * W.")
    if reg0 and all(o.status == Status.PASSED for o in reg0):
        return ["Right with reg = 0 but wrong with reg > 0: " + rule]
    return ["With reg > 0 only the regularisation is off (the rest agrees with the reference): "
            + rule]


def only_float32(cases, outcomes):
    """Float64 passes; the float32 failures are rounding-sized (outcome.data "precision")."""
    f32 = [o for c, o in zip(cases, outcomes) if "float32" in tags_of(c)]
    f64 = [o for c, o in zip(cases, outcomes) if "float32" not in tags_of(c)]
    failing = [o for o in f32 if o.status != Status.PASSED]
    if f32 and f64 and all(o.status == Status.PASSED for o in f64) and failing and \
            all(o.status == Status.FAILED and o.data.get("precision") for o in failing):
        return ["Right in float64 but a little off in float32: keep float32 inputs in float32 "
                "or wider through the computation (no float16, no rounding in between)."]
    return []


def only_visible_case(cases, outcomes):
    """Fixed public inputs pass, fresh inputs fail: outputs may be hard-coded or shape-specific."""
    fixed = [o for c, o in zip(cases, outcomes) if "fixed" in tags_of(c)]
    other = [o for c, o in zip(cases, outcomes) if "fixed" not in tags_of(c)]
    if fixed and other and all(o.status == Status.PASSED for o in fixed) and \
            all(o.status != Status.PASSED for o in other):
        return ["Right on the notebook's inputs only: make sure nothing depends on those shapes "
                "or values."]
    return []


CROSS_CASE_RULES = (regularisation, only_float32, only_visible_case)
