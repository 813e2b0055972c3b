"""`python -m autograder check [--dir .]`: the student's self-check.

Runs every visible item of the spec on the nndl/ in that folder and prints the
feedback the grader would give for those items, with the total of the visible
points. Each item runs in its own Python process under the item's time limit,
so a function that hangs costs that item only. Hidden items are not available
(a student copy's spec holds only the visible ones).

Then it prices the saved model (cnn_model.npz): a child process loads it with the
student's ThreeLayerConvNet exactly as the grader's sandbox does (the accuracy kind's
observe) and classifies the student's own validation images (the labels stay in this
process); the validation accuracy and the points it would earn under the spec's rule
are printed, with the reminder that the grader also scores held-out images.
"""
import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from autograder.checks import kinds
from autograder.spec import default_model_file, load_spec, select_items

PACKAGE_PARENT = Path(__file__).resolve().parents[1]


def add_arguments(parser):
    parser.add_argument("--dir", default=".", help="the homework folder holding nndl/ (default: .)")
    parser.add_argument("--item", action="append", default=None, metavar="PATTERN",
                        help="check only the items this id or glob matches (repeatable)")
    parser.add_argument("--cifar-dir", default=None,
                        help="CIFAR-10 folder for pricing the saved model (default: "
                        "$CIFAR10_DIR or cs231n/datasets/cifar-10-batches-py)")
    parser.add_argument("--no-model", action="store_true",
                        help="do not price the saved model (%s)" % default_model_file())
    parser.add_argument("--timeout-scale", type=float, default=1.0, help=argparse.SUPPRESS)


def _worker_command(item_id, folder, result_path):
    # -P: do not put the student's working folder first on sys.path, so the worker imports
    # this very autograder package (PYTHONPATH) rather than whatever the folder holds.
    return [sys.executable, "-P", "-m", "autograder.selfcheck", "--worker", item_id,
            str(folder), str(result_path)]


def run_item_subprocess(item, folder, timeout):
    """The result dict of one item, computed in a child process under a timeout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_PARENT), str(folder)] +
                                        ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    with tempfile.TemporaryDirectory(prefix="selfcheck-") as tmp:
        result_path = Path(tmp) / "result.json"
        try:
            proc = subprocess.run(_worker_command(item.id, folder, result_path), cwd=str(folder),
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return _failure(item, "error", "did not finish within %g s (an endless loop, or very slow "
                                           "code?)" % timeout)
        if result_path.exists():
            return json.loads(result_path.read_text())
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-8:]
        return _failure(item, "error", "the check crashed (exit code %s)%s"
                        % (proc.returncode, (":\n" + "\n".join(tail)) if tail else ""))


def _failure(item, status, output):
    return {"id": item.id, "score": 0.0, "max_score": float(item.points), "status": status,
            "output": output, "visibility": item.visibility}


def _worker(item_id, folder, result_path):
    """Run one item on <folder>/nndl in this process; write the result as JSON."""
    from autograder.checks.loading import load_nndl
    from autograder.notebook import run as run_item
    modules = load_nndl(Path(folder) / "nndl")
    result = run_item(item_id, nndl_modules=modules)
    Path(result_path).write_text(json.dumps({
        "id": result.item_id, "score": result.score, "max_score": result.max_score,
        "status": result.status, "output": result.output, "visibility": result.visibility}))
    return 0


def format_result(result):
    mark = {"passed": "PASS", "failed": "FAIL"}.get(result["status"], "ERROR")
    head = "%-5s %s  %g/%g" % (mark, result["id"], result["score"], result["max_score"])
    if result["status"] == "passed":
        notes = [line for line in result["output"].splitlines() if line.startswith("Note: ")]
        return "\n".join([head] + ["      " + n for n in notes])
    body = "\n".join("      " + line for line in result["output"].splitlines())
    return head + "\n" + body


def run(args):
    folder = Path(args.dir).resolve()
    if not (folder / "nndl").is_dir():
        print("autograder check: no nndl/ folder in %s (run it from your homework folder, or "
              "pass --dir)" % folder, file=sys.stderr)
        return 2
    spec = load_spec(visible_only=True)
    checkable = [item for item in spec.items if kinds.kind(item.kind).compares_outputs]
    spec = dataclasses.replace(spec, items=tuple(checkable))
    items = select_items(spec, ",".join(args.item or ()))
    unknown = [pattern for pattern in args.item or () if not select_items(spec, pattern)]
    if unknown:
        print("autograder check: not a visible item: %s" % ", ".join(unknown), file=sys.stderr)
        return 2
    print("Self-check of %s (visible items only; hidden items are graded after the deadline)\n"
          % (folder / "nndl"))
    warnings = environment_warnings(spec)
    if warnings:
        print("\n".join(warnings) + "\n")
    score = maximum = 0.0
    all_passed = True
    for item in items:
        result = run_item_subprocess(item, folder, item.time_limit * args.timeout_scale)
        print(format_result(result), flush=True)
        score += result["score"]
        maximum += result["max_score"]
        all_passed &= result["status"] == "passed"
    print("\nVisible items: %g/%g points." % (score, maximum))
    if not args.item:
        print("The other %g of the %g points (secret inputs, speed, your saved model's accuracy) are "
              "graded after the deadline." % (spec.settings.total_points - maximum,
                                              spec.settings.total_points))
        print("The grader runs the visible items on new inputs of the same shapes, so a pass "
              "here is a good sign, not a guarantee.")
    if not args.item and not args.no_model:
        print()
        print(price_model(folder, args.cifar_dir, args.timeout_scale), flush=True)
    return 0 if all_passed else 1


def environment_warnings(spec):
    """One line for each of the student's Python and numpy whose minor version differs from
    the grader's (the spec's [environment]); [] when both agree."""
    from autograder import environment
    return environment.student_warnings(spec.environment, environment.running_versions())


def accuracy_item():
    """The spec's accuracy item (its rule and points), or None when this copy's spec has none:
    the item of a kind that grades the saved model."""
    from autograder.spec import load_spec as load
    items = kinds.saved_model_items(load().items)
    return items[0] if items else None


@dataclasses.dataclass
class ModelPrice:
    """What measuring the saved model found.

    - model_file: its name; folder: where it was looked for
    - status: "missing" (no file), "unmeasured" (no data set: `problem` says why),
      "unscorable" (it could not classify the images: `problem`) or "scored"
    - accuracy (0..1) on `images` validation images, and the points it would earn under
      `item`'s rule (None: this copy's spec holds no accuracy item)
    """
    model_file: str
    folder: str
    status: str
    item: object = None
    problem: str = ""
    accuracy: float = None
    images: int = 0
    points: float = None

    def rule(self):
        """The accuracy item's rule (checks/kinds/accuracy.py Rule)."""
        from autograder.checks.kinds.accuracy import Rule
        return Rule.of(self.item.extras if self.item else {})

    @property
    def below_full_credit(self):
        """True when the model was scored and its validation accuracy is below full credit."""
        return self.status == "scored" and self.accuracy < self.rule().full_credit_at


def measure_model(folder, cifar_dir=None, timeout_scale=1.0, item=None):
    """The saved model's validation accuracy and the points it would earn under `item`'s rule
    (default: the spec's accuracy item), as a ModelPrice."""
    item = item or accuracy_item()
    model_file = str(item.extras["model_file"]) if item else default_model_file()
    model_path = Path(folder) / model_file
    price = ModelPrice(model_file=model_file, folder=str(folder), status="missing", item=item)
    if not model_path.is_file():
        return price
    try:
        images, labels = validation_split(cifar_dir, int(item.extras.get("validation_images", 1000))
                                          if item else 1000)
    except Exception as error:  # noqa: BLE001 - no data set: say so, the rest still counts
        return dataclasses.replace(price, status="unmeasured",
                                   problem=str(error).splitlines()[0] if str(error) else
                                   type(error).__name__)
    timeout = (item.time_limit if item else 600) * timeout_scale
    predictions, problem = classify(folder, model_path, images, timeout)
    if problem:
        return dataclasses.replace(price, status="unscorable", problem=problem)
    accuracy = float(np.mean(predictions == labels))
    points = None
    if item is not None:
        points = float(item.points) * price.rule().credit(accuracy)
    return dataclasses.replace(price, status="scored", accuracy=accuracy, images=int(labels.size),
                               points=points)


def describe_price(price):
    """The lines the self-check prints about a ModelPrice."""
    if price.status == "missing":
        return ("Saved model: no %s in %s, so the model's accuracy points would be 0 (the last "
                "cell of CNN.ipynb saves it)." % (price.model_file, price.folder))
    if price.status == "unmeasured":
        return "Saved model: not priced, CIFAR-10 could not be loaded (%s)." % price.problem
    if price.status == "unscorable":
        return "Saved model: %s could not be scored: %s" % (price.model_file, price.problem)
    lines = ["Saved model (%s): validation accuracy %.1f%% on the %d validation images."
             % (price.model_file, 100 * price.accuracy, price.images)]
    if price.item is None:
        lines.append("This copy's spec does not hold the accuracy rule; see the course page.")
    else:
        rule = price.rule()
        full, zero, margin = rule.full_credit_at, rule.zero_credit_at, rule.margin
        lines.append("At that accuracy the model would earn %.4g/%g points (full credit at %g%%, "
                     "none at %g%% or below, linear between)." % (
                         price.points, price.item.points, 100 * full, 100 * zero))
        lines.append("The grader also scores it on images it has not seen (CIFAR-10 test "
                     "images moved slightly for each run, or the course's own) and credits "
                     "min(validation, held-out + %g%%): a model tuned to the validation images "
                     "can earn less." % (100 * margin))
    return "\n".join(lines)


def price_model(folder, cifar_dir=None, timeout_scale=1.0, item=None):
    """The lines about the saved model: validation accuracy and the points it would earn
    under `item`'s rule (default: the spec's accuracy item)."""
    return describe_price(measure_model(folder, cifar_dir, timeout_scale, item))


def validation_split(cifar_dir, num_validation):
    """(images, labels) of the validation split, preprocessed as CNN.ipynb and the grader do."""
    from cs231n.data_utils import get_CIFAR10_data
    data = get_CIFAR10_data(num_training=49000, num_validation=num_validation, num_test=0,
                            cifar10_dir=cifar_dir)
    return np.ascontiguousarray(data["X_val"]), np.asarray(data["y_val"], dtype=np.int64)


def classify(folder, model_path, images, timeout):
    """(predictions, '') from the student's ThreeLayerConvNet in a child process, or (None,
    problem). Only the images go to the child; its answer is read as a plain array."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_PARENT), str(folder)] +
                                        ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    with tempfile.TemporaryDirectory(prefix="selfcheck-model-") as tmp:
        images_path, result_path = Path(tmp) / "images.npy", Path(tmp) / "predictions.npy"
        error_path = Path(tmp) / "error.json"
        np.save(images_path, images)
        command = [sys.executable, "-P", "-m", "autograder.selfcheck", "--model-worker",
                   str(folder), str(model_path), str(images_path), str(result_path),
                   str(error_path)]
        try:
            proc = subprocess.run(command, cwd=str(folder), env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, "it did not finish within %g s" % timeout
        if error_path.exists():
            return None, json.loads(error_path.read_text()).get("error", "unknown error")
        if not result_path.exists():
            tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
            return None, "the check crashed (exit code %s)%s" % (
                proc.returncode, (":\n" + "\n".join(tail)) if tail else "")
        predictions = np.load(result_path, allow_pickle=False)
        if predictions.shape != (len(images),) or predictions.dtype.kind not in "iu":
            return None, "%d predictions of dtype %s for %d images" % (
                predictions.size, predictions.dtype, len(images))
        return predictions.astype(np.int64), ""


def _model_worker(folder, model_path, images_path, result_path, error_path):
    """Classify the images with the saved model and the folder's nndl, as the grader's sandbox
    does (accuracy.observe); write the predictions, or the error as JSON."""
    from autograder.checks.kinds import accuracy
    from autograder.checks.loading import load_nndl
    from autograder.checks.observation import describe_error, error_of
    item = accuracy_item()
    if item is None:
        from autograder.spec import Item
        item = Item(id="accuracy", kind="accuracy", function="cnn:ThreeLayerConvNet", points=0,
                    tolerance=0.0, time_limit=600, visibility="hidden")
    modules = load_nndl(Path(folder) / "nndl")
    case = {"_model_path": np.array(str(model_path)), "X.val": np.load(images_path)}
    obs = accuracy.observe(item, case, modules)
    failure = error_of(obs)
    if failure is not None:
        Path(error_path).write_text(json.dumps({"error": describe_error(failure)}))
        return 0
    np.save(result_path, np.asarray(obs["pred.val"], dtype=np.int64))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        sys.exit(_worker(*sys.argv[2:]))
    if len(sys.argv) == 7 and sys.argv[1] == "--model-worker":
        sys.exit(_model_worker(*sys.argv[2:]))
    print("usage: python -m autograder check [--dir DIR]", file=sys.stderr)
    sys.exit(2)
