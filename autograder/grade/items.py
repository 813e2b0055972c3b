"""Running one spec item: draw cases, observe the reference and the student, judge.

The reference's observations come from a trusted worker (same protocol, no
sandbox); the student's from the sandboxed worker. Judging runs here, in the
grader, on plain arrays only. The accuracy item also has the reference worker
classify the held-out images with the submitted weights (trusted evaluation,
autograder/checks/accuracy.py), so those images reach the student's code only
when the reference cannot stand in for it.
"""
import dataclasses
import importlib
import os
import sys
import time
import zlib

import numpy as np

from autograder.checks import judge_all, kinds
from autograder.checks.in_worker import OBSERVE, observe_arguments
from autograder.checks.kinds import accuracy, timing
from autograder.checks.observation import describe_error, error_of, error_observation
from autograder.grade import adapter, data, heldout, probe_pass
from autograder.grade.aggregate import failed_item, from_checks
from autograder.grade.beside import Beside
from autograder.results.model import ItemResult
from autograder.submission.layout import MAX_MODEL_BYTES

TIMING_ROUNDS = 3          # timed calls per side, on fresh inputs each
TIMED_LOSS = "autograder.checks.kinds.timing:timed_loss"
REFERENCE_SLACK = 2.0      # the reference gets this multiple of the item's time limit (+30 s)


class GraderError(Exception):
    """Something on the grader's side failed (not the student's fault)."""


_FAILURE_TYPES = {"timeout": "TimeLimitExceeded", "died": "ProcessDied",
                  "output_limit": "OutputLimitExceeded", "error": "Error"}


def failure_observation(item, reply):
    """The observation standing in for a request the sandbox stopped or that failed outright."""
    trace = str(reply.data.get("traceback", "")) if reply.data else ""
    return error_observation(_FAILURE_TYPES.get(reply.status, "Error"), reply.message,
                             where=item.qualname, trace=trace)


def reference_observe(ctx, item, case, index=None):
    """The reference's observation of a case; reused across submissions graded with one seed
    (not for timing, whose observe also builds the model its worker times next)."""
    key = (item.id, index) if index is not None and item.kind != "timing" else None
    if key is not None and key in ctx.reference_cache:
        return ctx.reference_cache[key]
    reply, obs = observe_in(ctx.reference, item, case, REFERENCE_SLACK * item.time_limit + 30,
                            probes=False)
    if reply.status != "ok":
        raise GraderError("the reference failed on %s: %s %s" % (item.id, reply.message,
                                                                 reply.output[-500:]))
    failure = error_of(obs)
    if failure is not None:
        # The reference's own code raised: a grader bug, never a student's zero.
        raise GraderError("the reference failed on %s: %s" % (item.id, describe_error(failure)))
    if key is not None:
        ctx.reference_cache[key] = obs
    return obs


def observe_in(session, item, case, timeout, probes):
    """The item kind's observe of the case in `session`'s worker: (Reply, observation or None)."""
    reply, obs = session.call(OBSERVE, observe_arguments(item, case, probes), timeout)
    if reply.status == "ok" and not isinstance(obs, dict):
        return dataclasses.replace(reply, status="error", data={}, value=None,
                                   message="the worker sent back no observation"), None
    return reply, obs


def student_observe(ctx, item, case, timeout, probes=True):
    reply, obs = observe_in(ctx.student, item, case, timeout, probes=probes)
    if reply.status != "ok":
        return failure_observation(item, reply), reply
    return obs, reply


def grader_runner(item):
    """The function that runs the item here: its kind's grader_runner, or run_cases."""
    name = kinds.kind(item.kind).grader_runner
    if not name:
        return run_cases
    module, _, function = name.partition(":")
    if not module.startswith("autograder."):
        raise GraderError("kind %s: grader_runner %r is not the grader's" % (item.kind, name))
    return getattr(importlib.import_module(module), function)


def run_item(ctx, item) -> ItemResult:
    start = time.monotonic()
    result = grader_runner(item)(ctx, item, start)
    result.seconds = time.monotonic() - start
    return result


def run_cases(ctx, item, start):
    cases = adapter.draw_cases(item, ctx.seed)
    students, references = [], []
    probes = probe_pass.probes_first(item)   # numerical probes: a second pass if needed
    for index, case in enumerate(cases):
        references.append(reference_observe(ctx, item, case, index))
        remaining = item.time_limit - (time.monotonic() - start)
        if remaining <= 0:
            students.append(error_observation(
                "TimeLimitExceeded", "not run: the item's time limit of %g s was used up by the "
                "cases before" % item.time_limit, where=item.qualname))
            continue
        students.append(student_observe(ctx, item, case, remaining, probes=probes)[0])
    verdict = judge_all(item, cases, students, references)
    if not probes and probe_pass.needs_probes(item, verdict):
        students = probe_pass.observed_with_probes(
            cases, students, lambda: item.time_limit - (time.monotonic() - start),
            lambda case, seconds: student_observe(ctx, item, case, seconds)[0])
        verdict = judge_all(item, cases, students, references)
    return from_checks(item, verdict)


def run_timing(ctx, item, start):
    """
    Time the student's loss with the grader's clock: each side's model is built once
    (untimed observe), then every round is one call of timing.timed_loss on fresh inputs,
    timed here around the request, reference and student alternated so both see the same
    machine noise; the fastest round of each side counts (checks/timing.py).
    """
    cases = adapter.draw_cases(item, ctx.seed)
    # The rounds' inputs: a stream of the run's secret seed apart from the cases'.
    rng = np.random.default_rng([int(ctx.seed) & (2 ** 63 - 1), zlib.crc32(item.id.encode()), 1])
    students, references = [], []
    for case in cases:
        case = dict(case, **{timing.GRADER_CLOCK: np.array(True)})
        reference_obs = reference_observe(ctx, item, case)
        remaining = item.time_limit - (time.monotonic() - start)
        student_obs, reply = student_observe(ctx, item, case, max(remaining, 1.0))
        best = {"reference": None, "student": None}
        losses = {"reference": [], "student": []}
        for _ in range(TIMING_ROUNDS if reply.status == "ok" and "error" not in student_obs else 0):
            X, y = timing.fresh_inputs(case, rng)
            _timed_round(ctx.reference, "reference", item, X, y, best, losses,
                         REFERENCE_SLACK * item.time_limit + 30)
            remaining = item.time_limit - (time.monotonic() - start)
            if remaining <= 0 and losses["student"]:
                break
            failure = _timed_round(ctx.student, "student", item, X, y, best, losses,
                                   max(remaining, 1.0))
            if failure is not None:
                student_obs = failure
                break
            if best["student"] > item.time_limit / (2 * TIMING_ROUNDS):
                break  # far too slow to need more rounds
        if "error" not in student_obs:
            student_obs = timing.graded_observation(student_obs, best["student"], losses["student"])
        references.append(timing.graded_observation(reference_obs, best["reference"],
                                                     losses["reference"][:len(losses["student"])]))
        students.append(student_obs)
    return from_checks(item, judge_all(item, cases, students, references))


def _timed_round(session, side, item, X, y, best, losses, timeout):
    """
    One call of timing.timed_loss(X, y) in `side`'s worker, timed by this process's clock;
    updates best[side] and losses[side]. Returns the student's failure observation, if any.
    """
    began = time.perf_counter()
    reply, obs = session.call(TIMED_LOSS, {"X": X, "y": y}, timeout)
    seconds = time.perf_counter() - began
    if side == "reference" and (reply.status != "ok" or not isinstance(obs, dict) or "error" in obs):
        raise GraderError("the reference failed a timed round of %s: %s" % (item.id, reply.message))
    if reply.status != "ok":
        return failure_observation(item, reply)
    if not isinstance(obs, dict):
        return error_observation("Error", "the timed call returned no result", where=item.qualname)
    if "error" in obs:
        return obs
    losses[side].append(timing.finite_loss(obs.get("loss")))
    _fastest(best, side, seconds)
    return None


def _fastest(best, side, seconds):
    """Keep the fastest of this side's rounds in best[side]."""
    if best[side] is None or seconds < best[side]:
        best[side] = seconds


def run_accuracy(ctx, item, start):
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
    model_inside = ctx.student.write_file("cnn_model.npz", model_bytes)
    case = accuracy.build_case(model_inside, splits)
    case["_label"] = "the model trained from CNN.ipynb" if preface else "your cnn_model.npz"
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
    CI) CNN.ipynb saves cnn_model.quick.npz so as never to replace a student's trained model."""
    return "cnn_model.quick.npz" if training_env.get("CNN_HOMEWORK_QUICK") == "1" \
        else "cnn_model.npz"


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
            what = ("but its cnn_model.npz cannot be used: %s" % problem[:300]) if problem \
                else "but saved no cnn_model.npz"
            return None, "the notebook ran for %.0f s %s%s" % (
                seconds, what, (" (%s)" % errors.splitlines()[0]) if errors else "")
        kept = os.path.join(ctx.tmp, "trained_model.npz")
        with open(kept, "xb") as f:
            f.write(model.tobytes())
        ctx.extra["retrained_seconds"] = round(seconds, 1)
        return kept, "trained in %.0f s" % seconds
    finally:
        session.close()
