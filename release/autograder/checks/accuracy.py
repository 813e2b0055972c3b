"""Kind `accuracy`: the saved model, rebuilt with the student's own
ThreeLayerConvNet, scored on the validation split and on held-out images.

A case (built by the grader with build_case, never by a case builder):
- "_model_path": 0-d str, the model file (cs231n.model_io format);
- "X.<split>": images (N, 3, 32, 32), preprocessed as in CNN.ipynb;
- "y.<split>": labels (N,), grader-side only: sandbox_case() drops them, so
  the student's process sees images but never labels.

observe returns "pred.<split>" (int64 predictions: argmax of the test-mode
scores, in batches). judge computes the accuracies against the labels.

The held-out images come from the public CIFAR-10 test batch, moved by a
secret per-run transformation (autograder/grade/data.py, spec keys heldout_*),
so a model earns held-out accuracy only for what its weights do: a table of
public images and their labels matches none of them.

Partial credit (spec keys full_credit_at, zero_credit_at): credited accuracy
= min(validation accuracy, held-out accuracy + heldout_margin) (margin
default 0.10). The validation images are public training images: the min
keeps both tuning on them and a lookup table of them from buying more than
the margin. Full credit at >= full_credit_at, none at <= zero_credit_at,
linear between.
"""
import numpy as np

from autograder.checks import judging, models
from autograder.checks.outcome import CheckOutcome

BATCH = 500


def build_case(model_path, splits):
    """A case from the model file and {split name: (X, y)}."""
    case = {"_model_path": str(model_path), "_label": "saved model %s" % model_path, "_tags": ""}
    for name, (X, y) in splits.items():
        case["X." + name] = np.asarray(X)
        case["y." + name] = np.asarray(y, dtype=np.int64)
    return case


def sandbox_case(case):
    """The case without labels (what the student's process may see)."""
    return {k: v for k, v in case.items() if not k.startswith("y.")}


def observe(item, case, nndl_modules, probes=True):
    from cs231n.model_io import load_model  # the kit's trusted copy

    rec, model_class = models.student_class(item, nndl_modules)
    if model_class is None:
        return rec.finish()
    path = str(np.asarray(case["_model_path"]).reshape(())[()])
    with rec.student("cs231n.model_io.load_model(%r, ThreeLayerConvNet)" % path):
        model = load_model(path, model_class)
    if rec.failed:
        return rec.finish()
    for key in sorted(case):
        if not key.startswith("X."):
            continue
        X = np.asarray(case[key])
        predictions = []
        with rec.student("ThreeLayerConvNet.loss(X) on the %s images" % key[2:]):
            for start in range(0, len(X), BATCH):
                scores = np.asarray(model.loss(X[start:start + BATCH]))
                if scores.ndim != 2 or scores.shape[0] != len(X[start:start + BATCH]):
                    raise ValueError("loss(X) returned scores of shape %s for %d images"
                                     % (scores.shape, len(X[start:start + BATCH])))
                predictions.append(np.argmax(scores, axis=1))
        if rec.failed:
            return rec.finish()
        rec.put("pred." + key[2:], np.concatenate(predictions).astype(np.int64))
    return rec.finish()


def credit(accuracy, zero_credit_at, full_credit_at):
    if accuracy >= full_credit_at:
        return 1.0
    if accuracy <= zero_credit_at:
        return 0.0
    return float((accuracy - zero_credit_at) / (full_credit_at - zero_credit_at))


def accuracies(case, student_obs):
    result = {}
    for key in case:
        if key.startswith("y."):
            split = key[2:]
            labels = np.asarray(case[key])
            pred = np.asarray(student_obs.get("pred." + split, np.zeros(0)))
            if pred.shape != labels.shape:
                raise ValueError("%d predictions for %d %s images" % (pred.size, labels.size, split))
            result[split] = float(np.mean(pred == labels)) if labels.size else 0.0
    return result


def judge(item, case, student_obs, reference_obs=None):
    failed = judging.errors(item, student_obs, None)
    if failed is not None:
        return failed
    try:
        scores = accuracies(case, student_obs)
    except ValueError as exc:
        return CheckOutcome(0.0, "error", str(exc))
    full = float(item.extras.get("full_credit_at", 0.65))
    zero = float(item.extras.get("zero_credit_at", 0.40))
    margin = float(item.extras.get("heldout_margin", 0.10))
    val = scores.get("val", scores.get("validation"))
    if val is None:
        return CheckOutcome(0.0, "error", "grader problem: no validation images")
    credited = min(val, scores["heldout"] + margin) if "heldout" in scores else val
    fraction = credit(credited, zero, full)
    order = sorted(scores, key=lambda split: (split not in ("val", "validation"), split))
    message = ", ".join("%s accuracy %.1f%%" % ({"val": "validation", "heldout": "held-out"}.get(k, k),
                                                100 * scores[k]) for k in order)
    message += ("; full credit at %.0f%%, none at %.0f%% or below" % (100 * full, 100 * zero))
    hints = []
    if "heldout" in scores and scores["heldout"] + margin < val:
        hints.append("Accuracy on held-out images is much lower than on the validation split: "
                     "the model may be tuned to the validation images.")
    status = "passed" if fraction == 1.0 else "failed"
    return CheckOutcome(fraction, status, message if status == "failed" else "", hints=hints,
                        notes=[message] if status == "passed" else [], data=dict(scores))
