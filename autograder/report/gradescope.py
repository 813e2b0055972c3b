"""results.json in Gradescope's autograder schema.

Top level: score, max_score, execution_time, output, visibility, stdout_visibility,
tests[], extra_data. Each test: name, score, max_score, status ('passed'/'failed'),
output, visibility ('visible' or 'after_published'), extra_data {'item': spec id}.
The secret seed and the sandbox record go to the top-level extra_data, which
Gradescope does not show to students.
"""
import json

from autograder.grade import late
from autograder.report.text import bounded

TEST_FIELDS = ("name", "score", "max_score", "status", "output", "visibility", "extra_data")
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def results_json(result):
    """The dict written to results.json for a GradeResult."""
    tests = []
    for item in result.items:
        tests.append({
            "name": "%s (%s)" % (item.title, item.item_id) if item.title != item.item_id else item.item_id,
            "score": _number(item.score),
            "max_score": _number(item.max_score),
            "status": "passed" if item.passed else "failed",
            "output": item.output,
            "visibility": item.visibility,
            "extra_data": dict({"item": item.item_id, "kind": item.kind,
                                "seconds": round(item.seconds, 3),
                                "groups": [group.record() for group in item.groups or ()]},
                               **{k: v for k, v in (("section", item.section),
                                                    ("function", item.function)) if v}),
        })
    lines = ["Score: %s / %s" % (_number(result.score), _number(result.max_score))]
    late_line = late.describe(result.score, result.max_score, result.extra.get("late"))
    if late_line:
        lines.append(late_line)
    lines += ["Problem: " + p for p in result.problems]
    lines += ["Note: " + n for n in result.notes]
    if result.grader_error:
        lines.append("The grader hit an internal error; please contact the course staff: "
                     + result.grader_error.splitlines()[0])
    extra = dict(result.extra)
    leaderboard = extra.pop("leaderboard", None)  # Gradescope reads it at the top level
    data = {
        "score": _number(result.score),
        "max_score": _number(result.max_score),
        "execution_time": round(result.execution_time, 2),
        "output": "\n".join(lines),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"submission": result.submission, "seed": result.seed,
                       "sandbox": result.sandbox, "grader_error": result.grader_error,
                       **extra},
    }
    if leaderboard:
        data["leaderboard"] = leaderboard
    return data


def dumps(result):
    """results.json text: every text from the submission capped and printable (valid UTF-8)."""
    return json.dumps(_clean(results_json(bounded(result))), indent=2, allow_nan=False,
                      default=_default) + "\n"


def _clean(value):
    """JSON has no NaN or infinity: they become None."""
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def validate(data):
    """Problems with a results.json dict against the Gradescope fields ([] when valid)."""
    problems = []
    for key in ("score", "execution_time", "tests"):
        if key not in data:
            problems.append("missing top-level %r" % key)
    if not isinstance(data.get("score", 0), (int, float)):
        problems.append("score is not a number")
    for i, test in enumerate(data.get("tests", [])):
        for key in TEST_FIELDS:
            if key not in test:
                problems.append("tests[%d] has no %r" % (i, key))
        if test.get("status") not in ("passed", "failed"):
            problems.append("tests[%d].status is %r" % (i, test.get("status")))
        if test.get("visibility") not in VISIBILITIES:
            problems.append("tests[%d].visibility is %r" % (i, test.get("visibility")))
        if not isinstance(test.get("score"), (int, float)) or not isinstance(
                test.get("max_score"), (int, float)):
            problems.append("tests[%d] score/max_score not numbers" % i)
        elif test["score"] > test["max_score"] + 1e-9 or test["score"] < 0:
            problems.append("tests[%d].score outside 0..max_score" % i)
        if not isinstance(test.get("extra_data", {}).get("item"), str):
            problems.append("tests[%d].extra_data.item is not a string" % i)
    if "tests" in data and isinstance(data.get("score"), (int, float)):
        total = sum(t.get("score", 0) for t in data["tests"])
        extra = data.get("extra_data") or {}
        if "raw_score" in extra:   # the Gradescope runner's score after the late penalty
            expected = late.score_after(total, extra.get("late"))
            if abs(total - extra["raw_score"]) > 1e-6 or abs(expected - data["score"]) > 1e-6:
                problems.append("score %s is not the tests' scores %s after the late penalty"
                                % (data["score"], total))
        elif abs(total - data["score"]) > 1e-6:
            problems.append("score %s is not the sum of the tests' scores %s" % (data["score"], total))
    return problems


def _number(value):
    value = round(float(value), 4)
    return int(value) if value == int(value) else value


def _default(value):
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)
