"""The grader's runner of the accuracy kind (checks/kinds/accuracy.py: the rule and the
judge): the saved model (or one retrained from CNN.ipynb in the sandbox) classifies the
validation and held-out images. The reference worker classifies the held-out images with
the submitted weights (trusted evaluation, autograder/checks/trusted_model.py), so those
images reach the student's code only when the reference cannot stand in for it.
"""
import os
import sys
import time

import numpy as np

from autograder.checks import judge_all
from autograder.checks.kinds import accuracy
from autograder.grade import data, heldout
from autograder.grade.aggregate import failed_item, from_checks
from autograder.grade.beside import Beside
from autograder.grade.items import GraderError, student_observe
from autograder.submission.layout import MAX_MODEL_BYTES


def run(ctx, item, start):
    submission = ctx.submission
    preface = ""
    model_host = submission.model_path
    model_name = os.path.basename(item.extras["model_file"])
    retraining = will_retrain(ctx.options.retrain, item, has_model=model_host is not None)
    if model_host is None and not retraining:
        return failed_item(item, missing_model_message(model_name))
    if retraining:
        # Said to the student, who never typed a command-line flag.
        why = ("the course grades the model your CNN.ipynb trains" if ctx.options.retrain
               else "no %s was submitted" % model_name)
        model_host, message = retrain(ctx, item)
        preface = "%s, so the grader ran CNN.ipynb to train a model: %s" % (why, message)
        if model_host is None:
            return failed_item(item, preface)
        start = time.monotonic()   # training had its own limit (retrain_time_limit)
    private = heldout.heldout_path(item, ctx.spec_path, ctx.options.heldout_file)
    try:
        splits = data.accuracy_splits(ctx.options.cifar_dir, seed=ctx.seed,
                                      num_validation=int(item.extras["validation_images"]),
                                      num_heldout=int(item.extras["heldout_images"]),
                                      transform=data.HeldoutTransform.from_spec(item.extras),
                                      heldout_file=private)
    except heldout.HeldoutFileError as error:
        raise GraderError(str(error))
    except (OSError, ValueError) as error:
        raise GraderError("CIFAR-10 is not available to the grader: %s" % error)
    with open(model_host, "rb") as f:   # grader-owned: the staged copy or the retrained bytes
        model_bytes = f.read()
    model_inside = ctx.student.write_file(model_name, model_bytes)
    case = accuracy.build_case(model_inside, splits)
    case["_label"] = "the model trained from CNN.ipynb" if preface else "your %s" % model_name
    # The reference predicts with the submitted weights while the student's code evaluates
    # the (public) validation images (beside.py); the held-out ones go to the student's code
    # only if the guard fails (the reference had no predictions or disagrees).
    with Beside(trusted_evaluation, ctx, item, model_bytes, splits) as pending:
        first = ("val",)
        remaining = max(item.time_limit - (time.monotonic() - start), 10.0)
        student, _ = student_observe(ctx, item, accuracy.sandbox_case(case, first), remaining)
        trusted = pending.result()
    if "error" not in student and \
            accuracy.evaluation(item, student, trusted)[0] != accuracy.TRUSTED:
        remaining = max(item.time_limit - (time.monotonic() - start), 10.0)
        rest, _ = student_observe(ctx, item, accuracy.sandbox_case(
            case, [k[2:] for k in case if k.startswith("X.") and k != "X.val"]), remaining)
        student = rest if "error" in rest else dict(student, **{
            k: v for k, v in rest.items() if k.startswith("pred.") and k != "pred.val"})
    verdict = judge_all(item, [case], [student], [trusted])
    for outcome in verdict.outcomes:
        # which images the held-out accuracy is measured on (the staff's record, the feedback)
        outcome.data["heldout_source"] = HELDOUT_PRIVATE if private else HELDOUT_PUBLIC
        ctx.extra.setdefault("accuracy", {}).update(outcome.data)
    return from_checks(item, verdict, preface=preface)


HELDOUT_PRIVATE = "the course's held-out file"
HELDOUT_PUBLIC = "the public test batch, transformed"


def will_retrain(forced, item, has_model):
    """True if the grader trains the model from CNN.ipynb: always under --retrain (`forced`),
    else only for a submission without its model file when the spec's missing_model says so."""
    return bool(forced) or (not has_model and
                            item.extras.get("missing_model") == accuracy.MISSING_RETRAIN)


def missing_model_message(model_name):
    """The feedback of a submission without its model file, when the course does not retrain."""
    return ("no %s was submitted, so the accuracy item gets 0 points: it is scored on the model "
            "you save with the last section of CNN.ipynb, and the grader does not train one for "
            "you." % model_name)


TRUSTED_PREDICTIONS = "autograder.checks.trusted_model:predictions"


def trusted_evaluation(ctx, item, model_bytes, splits):
    """The reference ThreeLayerConvNet's predictions of every split with the submitted weights,
    made in the reference's worker (the file is untrusted: never read in this process):
    {"pred.<split>": ...} or {"problem": why there are none}."""
    images = {name: X for name, (X, _) in splits.items()}
    # the guard's share of the validation images: the student's code classifies them all
    images["val"] = images["val"][:max(int(item.extras["agreement_images"]), 1)]
    reply, result = ctx.reference.call(
        TRUSTED_PREDICTIONS, {"model": np.frombuffer(model_bytes, dtype=np.uint8),
                              "images": images}, float(item.time_limit))
    if reply.status != "ok" or not isinstance(result, dict):
        return {"problem": "its evaluation failed (%s)" % str(reply.message)[:300]}
    wanted = {"pred." + name: len(X) for name, X in images.items()}
    if "problem" not in result and any(
            not isinstance(result.get(k), np.ndarray) or result[k].shape != (n,)
            for k, n in wanted.items()):
        return {"problem": "its evaluation returned no predictions"}
    return result


def retrain(ctx, item):
    """Run CNN.ipynb in a fresh sandbox; (grader-side path of the model it saved or None, message).
    The model comes back as bytes in the worker's reply: nothing in the sandbox's folder is
    opened here."""
    notebook = os.path.join(ctx.submission.root, "CNN.ipynb")
    problem = ctx.submission.notebooks.get("CNN.ipynb")
    if not os.path.exists(notebook):
        return None, "CNN.ipynb is missing, so no model could be trained"
    if problem:
        return None, "CNN.ipynb %s, so no model could be trained" % problem
    timeout = float(item.extras["retrain_time_limit"])
    # The grader says nothing else while a notebook trains for up to `timeout` seconds.
    say_on_stderr("retraining %s: running its CNN.ipynb in the sandbox (up to %.0f s)"
                  % (ctx.name or "the submission", timeout))
    began = time.monotonic()
    try:
        return _train_in_sandbox(ctx, notebook, timeout)
    finally:
        say_on_stderr("retraining %s: done after %.0f s"
                      % (ctx.name or "the submission", time.monotonic() - began))


def say_on_stderr(line):
    """A progress line of the grader (stderr: stdout may carry a report)."""
    print("autograder: " + line, file=sys.stderr, flush=True)


def trained_model_name(training_env):
    """The file the retraining notebook saves: in quick mode (CNN_HOMEWORK_QUICK=1, e.g. in
    CI) CNN.ipynb saves cnn_model.quick.npz so as never to replace a student's trained model;
    else the kit's model file name, which CNN.ipynb's last section saves."""
    return "cnn_model.quick.npz" if training_env.get("CNN_HOMEWORK_QUICK") == "1" \
        else accuracy.MODEL_FILE


def _train_in_sandbox(ctx, notebook, timeout):
    """retrain's work: (path of the model the notebook saved or None, message)."""
    session = ctx.training_session(timeout)
    try:
        with open(notebook, "rb") as f:   # the staged copy: grader-owned
            inside = session.write_file("CNN.ipynb", f.read())
        reply, result = session.call("autograder.sandbox.tasks:train_notebook",
                                     {"notebook_path": inside, "workdir": session.worker_work_dir,
                                      "timeout": timeout, "max_model_bytes": MAX_MODEL_BYTES,
                                      "model_name": trained_model_name(ctx.options.training_env)},
                                     timeout + 60)
        if reply.status != "ok":
            return None, "training failed: %s" % reply.message
        result = result if isinstance(result, dict) else {}
        model = result.get("model")
        errors = str(result.get("errors") or "")
        try:
            seconds = float(result.get("seconds", 0.0))
        except (TypeError, ValueError):
            seconds = 0.0
        if not isinstance(model, np.ndarray) or model.dtype != np.uint8 or model.ndim != 1 \
                or model.size == 0 or model.size > MAX_MODEL_BYTES:
            problem = str(result.get("model_problem") or "")
            what = ("but its %s cannot be used: %s" % (accuracy.MODEL_FILE, problem[:300])) \
                if problem else "but saved no %s" % accuracy.MODEL_FILE
            return None, "the notebook ran for %.0f s %s%s" % (
                seconds, what, (" (%s)" % errors.splitlines()[0]) if errors else "")
        kept = os.path.join(ctx.tmp, "trained_model.npz")
        with open(kept, "xb") as f:
            f.write(model.tobytes())
        ctx.extra["retrained_seconds"] = round(seconds, 1)
        return kept, "trained in %.0f s" % seconds
    finally:
        session.close()
