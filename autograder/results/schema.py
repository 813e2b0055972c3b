"""results.json in Gradescope's autograder schema.

Top level: score, max_score, execution_time, output, visibility, stdout_visibility,
tests[], extra_data. Each test: name, score, max_score, status ('passed'/'failed'),
output, visibility ('visible' or 'after_published'), extra_data {'item': spec id}.
The secret seed and the sandbox record go to the top-level extra_data, which
Gradescope does not show to students.

Hidden means hidden: students see the top-level output and the visible tests at once, the
after_published tests when the instructor publishes the grades (and, per Gradescope's
autograder specification, not their total score while any such test is unpublished). So
until grades are published (the `published` argument, from `grade --published`), the
top-level output states only the visible items' score, its late line carries no points,
and the visible tests' outputs call an unpublished item "an item hidden until grades are
published" instead of naming it (a refunded group says where its cause is charged).
"""
import json
import re

from autograder.policy import late, overrides
from autograder.results.text import bounded

TEST_FIELDS = ("name", "score", "max_score", "status", "output", "visibility", "extra_data")
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
PENDING_NOTE = "the other items' points appear when grades are published"
HIDDEN_ITEM = "an item hidden until grades are published"


def results_json(result, published=False):
    """The dict written to results.json for a GradeResult; published: grades are published
    (`grade --published`), so hidden items are named and the total shown."""
    pending = unpublished_ids(result, published)
    overridden = overrides.by_item(result.overrides)
    tests = []
    for item in result.items:
        tests.append({
            "name": "%s (%s)" % (item.title, item.item_id) if item.title != item.item_id else item.item_id,
            "score": _number(item.score),
            "max_score": _number(item.max_score),
            "status": "passed" if item.passed else "failed",
            "output": (without_item_names(item.output, pending) if item.visibility == "visible"
                       else item.output),
            "visibility": item.visibility,
            "extra_data": dict({"item": item.item_id, "kind": item.kind,
                                "seconds": round(item.seconds, 3),
                                "groups": [group.record() for group in item.groups or ()]},
                               **{k: v for k, v in (("section", item.section),
                                                    ("function", item.function)) if v},
                               # the staff's change, with the grader's own score
                               **({"override": overridden[item.item_id]}
                                  if item.item_id in overridden else {})),
        })
    lines = score_lines(result, pending)
    # staging facts about the upload (missing files, refused zip entries): no item's result
    lines += ["Problem: " + p for p in result.problems]
    lines += ["Note: " + n for n in result.notes]
    if result.grader_error:
        lines.append("The grader hit an internal error; please contact the course staff: "
                     + result.grader_error.splitlines()[0])
    extra = dict(result.extra)
    # Gradescope reads it at the top level and shows it to every student at once: the spec's
    # [leaderboard] (off by default) says what enabling it reveals
    leaderboard = extra.pop("leaderboard", None)
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
                       **_given(environment=result.environment, published=published,
                                unreadable=result.unreadable),
                       **extra,
                       **_given(batch=result.batch, late=result.late, lms=result.lms,
                                overrides=result.overrides)},
    }
    if leaderboard:
        data["leaderboard"] = leaderboard
    return data


def _given(**records):
    """The records that are set (None, '', False and empty ones are left out of the file)."""
    return {name: value for name, value in records.items()
            if value is not None and value != "" and value is not False and value != []}


def unpublished_ids(result, published=False):
    """Ids of the items students cannot see yet: not visible, and grades not published."""
    if published:
        return []
    return [item.item_id for item in result.items if item.visibility != "visible"]


def score_lines(result, pending):
    """The top-level output's score and late lines. With unpublished items: the visible
    items' score only, and the late penalty as a share (its points would give the total)."""
    record = result.late
    if not pending:
        lines = ["Score: %s / %s" % (_number(result.score), _number(result.max_score))]
        late_line = late.describe(result.score, result.max_score, record)
        return lines + ([late_line] if late_line else [])
    shown = [item for item in result.items if item.item_id not in pending]
    lines = ["Score on the visible items: %s / %s (%s)" % (
        _number(sum(item.score for item in shown)), _number(sum(item.max_score for item in shown)),
        PENDING_NOTE)]
    late_line = late.describe_share(record)
    lines += [late_line + ", applied to the total"] if late_line else []
    if record and record.get("ignored"):   # a note on the student's own file, no points in it
        lines.append("Note: " + record["ignored"])
    return lines


def without_item_names(text, item_ids):
    """`text` with each of `item_ids` replaced by HIDDEN_ITEM (longest first, whole ids only,
    so an id that starts another one is not cut out of it)."""
    if not item_ids or not text:
        return text
    names = "|".join(re.escape(i) for i in sorted(set(item_ids), key=len, reverse=True))
    return re.sub(r"(?<![\w.])(?:%s)(?![\w])" % names, HIDDEN_ITEM, text)


def dumps(result, after_late_penalty=False, published=False):
    """results.json text: every text from the submission capped and printable (valid UTF-8);
    after_late_penalty: the score is after the late penalty (see with_late_penalty)."""
    data = results_json(bounded(result), published)
    if after_late_penalty:
        data = with_late_penalty(data, result.score, result.late)
    return dumps_data(data)


def dumps_data(data):
    """results.json text of a results.json dict (NaN and infinities become null)."""
    return json.dumps(_clean(data), indent=2, allow_nan=False, default=_default) + "\n"


def with_late_penalty(data, raw_score, record):
    """results.json data whose score is after the late penalty (Gradescope keeps that score),
    the score before it in extra_data.raw_score."""
    if not record or not record.get("fraction"):
        return data
    data = dict(data, score=late.score_after(raw_score, record))
    data["extra_data"] = dict(data["extra_data"], raw_score=raw_score)
    return data


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
