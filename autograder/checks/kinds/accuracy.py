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
or from the course's own image file (spec key heldout_file), which no student had.
Where it can, the grader keeps them out of the student's process altogether
(trusted evaluation): when the saved parameters fit the reference
ThreeLayerConvNet (autograder/checks/trusted_model.py), the reference code
predicts the held-out images with the student's weights in the reference's
worker, and the student's code sees the validation images only. Fairness guard:
the reference's validation predictions with those weights must agree with the
student's own on at least trusted_agreement of the images (spec key, default
0.98); the reference classifies the first agreement_images of them (500), enough to
tell code that computes the reference's scores from code that does not. Otherwise (a forward pass of its own, an architecture the reference
cannot rebuild, a lookup table of validation images) the held-out images are
evaluated by the student's code, as the transformation alone protects them, and
the result is marked for the course staff's review (data: needs_review,
review_reason; a near-duplicate search of the public test batch defeats the
transformation).

Partial credit (spec keys full_credit_at, zero_credit_at): credited accuracy
= min(validation accuracy, held-out accuracy + heldout_margin) (margin
default 0.10). The validation images are public training images: the min
keeps both tuning on them and a lookup table of them from buying more than
the margin. Full credit at >= full_credit_at, none at <= zero_credit_at,
linear between.

The outcome's data (copied to results.json's extra_data.accuracy): val, heldout,
credited, per_class_val (validation accuracy of each class, CLASS_NAMES order),
class_names, heldout_evaluation ("trusted" or "student-code"), val_agreement,
needs_review, review_reason.
"""
from dataclasses import dataclass

import numpy as np

from autograder.checks import models
from autograder.checks.kinds.base import Key, Kind
from autograder.checks.outcome import CheckOutcome, Status

BATCH = 500
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck")   # CIFAR-10's label order (batches.meta)
TRUSTED = "trusted"
STUDENT_CODE = "student-code"
# The spec's missing_model: what a submission without its model file gets.
MISSING_ZERO, MISSING_RETRAIN = "zero", "retrain"
MISSING_MODEL_CHOICES = (MISSING_ZERO, MISSING_RETRAIN)

# The accuracy rule's defaults (the spec keys' defaults below; written here only).
MODEL_FILE = "cnn_model.npz"   # the submitted model's name where no spec sets model_file
FULL_CREDIT_AT = 0.65
ZERO_CREDIT_AT = 0.40
HELDOUT_MARGIN = 0.10


@dataclass(frozen=True)
class Rule:
    """The accuracy rule of one item (see the module docstring): the grader's judge, the
    report's numbers and the self-check's price all compute credit through it."""
    full_credit_at: float = FULL_CREDIT_AT
    zero_credit_at: float = ZERO_CREDIT_AT
    margin: float = HELDOUT_MARGIN

    @classmethod
    def of(cls, extras):
        """The rule of an item's extras (a key left out: its default)."""
        return cls(float(extras.get("full_credit_at", FULL_CREDIT_AT)),
                   float(extras.get("zero_credit_at", ZERO_CREDIT_AT)),
                   float(extras.get("heldout_margin", HELDOUT_MARGIN)))

    def credited(self, val, heldout=None):
        """The accuracy credited: min(validation, held-out + margin), or the validation
        accuracy when no held-out images were scored."""
        return min(val, heldout + self.margin) if heldout is not None else val

    def credit(self, accuracy):
        """The fraction of the points a credited accuracy earns."""
        return credit(accuracy, self.zero_credit_at, self.full_credit_at)


def build_case(model_path, splits):
    """A case from the model file and {split name: (X, y)}."""
    case = {"_model_path": str(model_path), "_label": "saved model %s" % model_path, "_tags": ""}
    for name, (X, y) in splits.items():
        case["X." + name] = np.asarray(X)
        case["y." + name] = np.asarray(y, dtype=np.int64)
    return case


def sandbox_case(case, splits=None):
    """The case without labels (what the student's process may see), with the images of
    `splits` only (None: every split)."""
    return {k: v for k, v in case.items() if not k.startswith("y.")
            and (splits is None or not k.startswith("X.") or k[2:] in splits)}


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


def agreement(student_obs, trusted_obs, split="val"):
    """Fraction of the images the reference classified on which both sides predict the same
    class (None if either has no predictions for `split`). The reference classifies the
    first agreement_images of the split, the student's code all of them."""
    key = "pred." + split
    if not isinstance(trusted_obs, dict) or key not in trusted_obs or key not in student_obs:
        return None
    a, b = np.asarray(student_obs[key]), np.asarray(trusted_obs[key])
    if a.ndim != 1 or b.ndim != 1 or b.size == 0 or a.size < b.size:
        return 0.0
    return float(np.mean(a[:b.size] == b))


def agreement_count(trusted_obs, split="val"):
    """How many of `split`'s images the reference classified (0 without predictions)."""
    predictions = trusted_obs.get("pred." + split) if isinstance(trusted_obs, dict) else None
    return int(np.size(predictions)) if predictions is not None else 0


def evaluation(item, student_obs, trusted_obs):
    """
    Who predicts the held-out images: (TRUSTED or STUDENT_CODE, validation agreement or None,
    why not trusted: '' when trusted). trusted_obs: the reference's predictions with the
    student's weights ({"pred.<split>"}), or {"problem": why it has none}, or None.
    """
    threshold = float(item.extras["trusted_agreement"])
    agreed = agreement(student_obs, trusted_obs)
    if agreed is None:
        problem = trusted_obs.get("problem") if isinstance(trusted_obs, dict) else None
        return STUDENT_CODE, None, ("the course's reference ThreeLayerConvNet cannot evaluate "
                                    "your saved weights: %s" % str(problem or "it was not run")[:400])
    if agreed < threshold:
        return STUDENT_CODE, agreed, (
            "the reference ThreeLayerConvNet with your saved weights predicts the same class as "
            "your code on only %.1f%% of the validation images (%.0f%% needed)"
            % (100 * agreed, 100 * threshold))
    return TRUSTED, agreed, ""


def per_class(labels, predictions, num_classes=len(CLASS_NAMES)):
    """Accuracy of each class (0.0 for a class with no images)."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    out = []
    for c in range(num_classes):
        mask = labels == c
        out.append(float(np.mean(predictions[mask] == c)) if mask.any() else 0.0)
    return out


def judge(item, case, student_obs, reference_obs=None):
    """reference_obs: the trusted evaluation (see evaluation()), or None."""
    used, agreed, reason = evaluation(item, student_obs, reference_obs)
    predictions = dict(student_obs)
    if used == TRUSTED:
        predictions.update({k: v for k, v in reference_obs.items()
                            if k.startswith("pred.") and k != "pred.val"})
    try:
        scores = accuracies(case, predictions)
    except ValueError as exc:
        return CheckOutcome(0.0, Status.ERROR, str(exc))
    rule = Rule.of(item.extras)
    full, zero, margin = rule.full_credit_at, rule.zero_credit_at, rule.margin
    val_key = "val" if "val" in scores else "validation"
    val = scores.get(val_key)
    if val is None:
        return CheckOutcome(0.0, Status.ERROR, "grader problem: no validation images")
    credited = rule.credited(val, scores.get("heldout"))
    fraction = rule.credit(credited)
    order = sorted(scores, key=lambda split: (split not in ("val", "validation"), split))
    message = ", ".join("%s accuracy %.1f%%" % ({"val": "validation", "heldout": "held-out"}.get(k, k),
                                                100 * scores[k]) for k in order)
    if "heldout" in scores:
        message += "; credited accuracy = min(validation, held-out + %.0f%%) = %.1f%%" % (
            100 * margin, 100 * credited)
    message += ("; full credit at %.0f%%, none at %.0f%% or below" % (100 * full, 100 * zero))
    if used == TRUSTED:
        how = ("The held-out images were classified by the course's reference ThreeLayerConvNet "
               "with your saved weights (it agrees with your code on %.1f%% of %d validation "
               "images)." % (100 * agreed, agreement_count(reference_obs)))
    else:
        how = ("The held-out images were classified by your own code, because %s; the course "
               "staff will review this result." % reason)
    hints = []
    if "heldout" in scores and scores["heldout"] + margin < val:
        hints.append("Accuracy on held-out images is much lower than on the validation split: "
                     "the model may be tuned to the validation images.")
    status = Status.PASSED if fraction == 1.0 else Status.FAILED
    data = dict(scores, credited=float(credited), heldout_evaluation=used,
                val_agreement=agreed, needs_review=used != TRUSTED, review_reason=reason,
                class_names=list(CLASS_NAMES),
                per_class_val=per_class(case["y." + val_key], predictions["pred." + val_key]))
    return CheckOutcome(fraction, status, message + "\n" + how if status == Status.FAILED else "",
                        hints=hints, notes=[message, how] if status == Status.PASSED else [],
                        data=data)


KIND = Kind("accuracy", observe, judge, keys=(
    Key("model_file", MODEL_FILE, "the submitted model file (cs231n.model_io format)"),
    Key("full_credit_at", FULL_CREDIT_AT, "credited accuracy of full credit"),
    Key("zero_credit_at", ZERO_CREDIT_AT, "credited accuracy of no credit (linear in between)"),
    Key("heldout_margin", HELDOUT_MARGIN, "credited = min(validation, held-out + this)"),
    Key("trusted_agreement", 0.98, "share of validation images on which the reference network "
        "with the submitted weights must agree with the student's code for the reference to "
        "classify the held-out images"),
    Key("validation_images", 1000, "validation images drawn from the training batches"),
    Key("agreement_images", 500, "how many of the validation images (the first) the reference "
        "also classifies, for the trusted_agreement guard"),
    Key("heldout_images", 1000, "held-out images drawn from the test batch (or the "
        "heldout_file)"),
    # Grader-side only: the release's copy of the spec never names the file.
    Key("heldout_file", None, "the instructor's own held-out images (.npz: images uint8 "
        "(N, 32, 32, 3), labels 0..9), relative to the spec file; when given, the held-out "
        "images come from it instead of the public test batch", type=str),
    # The held-out images' secret transformation: its defaults stay with the grader
    # (autograder/grade/data.py HeldoutTransform), out of this module that students get.
    Key("heldout_flip", None, "held-out images: chance of a horizontal flip", type=float),
    Key("heldout_shift", None, "held-out images: each shifted by 1 to this many pixels, edge "
        "padded", type=int),
    Key("heldout_noise", None, "held-out images: Gaussian noise, std in pixel levels", type=float),
    Key("missing_model", MISSING_ZERO, "what a submission without its model file gets: \"zero\" (0 "
        "points, said in the feedback; nothing is trained) or \"retrain\" (the grader runs "
        "CNN.ipynb in the sandbox, up to retrain_time_limit, and grades the model it saves); "
        "`autograder grade --retrain` retrains every submission either way",
        choices=MISSING_MODEL_CHOICES),
    Key("retrain_time_limit", 1800.0, "seconds CNN.ipynb may train when the grader retrains"),
), grades_saved_model=True)
