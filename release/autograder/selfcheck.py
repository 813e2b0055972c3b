"""`python -m autograder check [--dir .]`: the student's self-check.

Runs every visible item of the spec on the nndl/ in that folder and prints the
feedback the grader would give for those items, with the total of the visible
points. Each item runs in its own Python process under the item's time limit,
so a function that hangs costs that item only. Hidden items are not available
(a student copy's spec holds only the visible ones).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.spec import load_spec

PACKAGE_PARENT = Path(__file__).resolve().parents[1]
SKIPPED_KINDS = ("accuracy", "timing")  # need the saved model / a reference timing: grader only


def add_arguments(parser):
    parser.add_argument("--dir", default=".", help="the homework folder holding nndl/ (default: .)")
    parser.add_argument("--item", action="append", default=None, metavar="ID",
                        help="check only this item (repeatable)")
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
        "id": result.id, "score": result.score, "max_score": result.max_score,
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
    items = [item for item in spec.items if item.kind not in SKIPPED_KINDS]
    if args.item:
        unknown = sorted(set(args.item) - {item.id for item in items})
        if unknown:
            print("autograder check: not a visible item: %s" % ", ".join(unknown), file=sys.stderr)
            return 2
        items = [item for item in items if item.id in args.item]
    print("Self-check of %s (visible items only; hidden items are graded after the deadline)\n"
          % (folder / "nndl"))
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
    return 0 if all_passed else 1


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        sys.exit(_worker(*sys.argv[2:]))
    print("usage: python -m autograder check [--dir DIR]", file=sys.stderr)
    sys.exit(2)
