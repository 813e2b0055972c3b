"""Score overrides: the course staff's changes to an item's points (a regrade request, manual
partial credit, a known limit of the grader), kept in a CSV and applied after every grading.

    overrides.csv: submission (or student), item, points or delta, comment, grader
    found = read_overrides(path)                   # OverrideError: a row that cannot be used
    check_names(found, ids, spec_ids, path)        # before grading: unknown submissions/items
    requests = requests_for(found, sid)            # what GradeTask carries to the grader
    apply(result)                                  # write_reports does it: every report sees it

The CSV is the source of truth: a regrade (`--force`) grades afresh and applies it again, so
a hand-changed score is never lost. `points` sets the item's score, `delta` adds to the
grader's; the result is clamped to [0, the item's points] (the record says so). Each
overridden item keeps the grader's own score beside the new one (results.json: the test's
extra_data.override, the top-level extra_data.overrides) and its output gains the line
"Adjusted by <grader>: <comment> (grader's score X, now Y)", which every report shows.
The total is the sum of the items after the overrides, and the late penalty (a share of
that total) is taken after them: an override changes the work's score, the lateness of the
submission still costs the same share.

`student` is another name for the submission id of a class run (on Gradescope it may also
be the student's sid or email from Gradescope's metadata).
"""
import csv
import io
import os
from dataclasses import dataclass

OVERRIDES_BYTES = 4 * 1024 * 1024
COMMENT_CHARS = 500


class OverrideError(ValueError):
    """The overrides CSV cannot be used (the message names the file and row)."""


@dataclass(frozen=True)
class Override:
    """One row: who (a submission id), which item, `points` (the new score) or `delta`."""
    submission: str
    item: str
    points: float = None
    delta: float = None
    comment: str = ""
    grader: str = ""
    row: int = 0        # the CSV's line number, for messages

    def request(self):
        """What travels to the grader and is kept in results.json (JSON-ready)."""
        return {"item": self.item, "points": self.points, "delta": self.delta,
                "comment": self.comment, "grader": self.grader}


def _number(text, where, column):
    try:
        value = float(text)
    except ValueError:
        raise OverrideError("%s%s %r is not a number" % (where, column, text))
    if value != value or value in (float("inf"), float("-inf")):
        raise OverrideError("%s%s %r is not a finite number" % (where, column, text))
    return value


def _one_line(text):
    return " ".join(str(text).split())[:COMMENT_CHARS]


def read_overrides(path):
    """[Override] of the CSV at `path`; OverrideError naming the file and row of a bad one."""
    from autograder.files.csv_cells import original   # lazily: the report package imports us
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            text = f.read(OVERRIDES_BYTES + 1)
    except (OSError, UnicodeDecodeError) as error:
        raise OverrideError("overrides %s cannot be read: %s" % (path, error))
    if len(text) > OVERRIDES_BYTES:
        raise OverrideError("overrides %s is larger than %d MB" % (path, OVERRIDES_BYTES >> 20))
    try:
        reader = csv.DictReader(io.StringIO(text))
        columns = [(c or "").strip().lower() for c in reader.fieldnames or []]
        rows = list(reader)
    except csv.Error as error:
        raise OverrideError("overrides %s is not a CSV file: %s" % (path, error))
    who_column = "submission" if "submission" in columns else "student"
    missing = [c for c in (who_column, "item") if c not in columns]
    if missing or not ({"points", "delta"} & set(columns)):
        raise OverrideError("overrides %s needs the columns submission (or student), item, "
                            "points or delta (comment and grader are optional); it has %s"
                            % (path, ", ".join(columns) or "none"))
    found, seen = [], {}
    for n, raw in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()
               if isinstance(v, str)}
        if not any(row.values()):
            continue
        where = "overrides %s row %d: " % (path, n)
        who, item = original(row.get(who_column, "")), original(row.get("item", ""))
        if not who or not item:
            raise OverrideError(where + "needs a %s and an item" % who_column)
        points, delta = row.get("points", ""), row.get("delta", "")
        if bool(points) == bool(delta):
            raise OverrideError(where + "give either points (the new score) or delta (added "
                                "to the grader's score), not %s" % ("both" if points else
                                                                     "neither"))
        key = (who, item)
        if key in seen:
            raise OverrideError(where + "%s %s is overridden already in row %d"
                                % (who, item, seen[key]))
        seen[key] = n
        found.append(Override(
            submission=who, item=item,
            points=_number(points, where, "points") if points else None,
            delta=_number(delta, where, "delta") if delta else None,
            comment=_one_line(original(row.get("comment", ""))),
            grader=_one_line(original(row.get("grader", ""))) or "the course staff", row=n))
    return found


def check_names(found, submission_ids, item_ids, path, aliases=None):
    """OverrideError naming every override whose submission or item is unknown.
    aliases: {other name: submission id} also accepted (e.g. a student's name)."""
    known = set(submission_ids) | set(aliases or ())
    problems = []
    for override in found:
        if override.submission not in known:
            problems.append("row %d: no submission %r in this class"
                            % (override.row, override.submission))
        if override.item not in item_ids:
            problems.append("row %d: no item %r in the spec" % (override.row, override.item))
    if problems:
        raise OverrideError("overrides %s names what is not graded here (nothing was graded):"
                            "\n  %s" % (path, "\n  ".join(problems)))


def requests_for(found, names):
    """The requests (Override.request) of the overrides naming any of `names` (a submission
    id, or for Gradescope the student's ids too), in CSV order."""
    names = {names} if isinstance(names, str) else set(names)
    return tuple(o.request() for o in found if o.submission in names)


def adjusted_line(record):
    """The sentence an overridden item's output ends with."""
    comment = record.get("comment") or "score changed"
    line = "Adjusted by %s: %s (grader's score %s, now %s)" % (
        record.get("grader") or "the course staff", comment, _points(record["grader_score"]),
        _points(record["score"]))
    if record.get("clamped"):
        line += "; %s" % record["clamped"]
    return line


def apply(result):
    """Apply the requests in result.overrides to result.items (in place) and
    replace them by the applied records (request + grader_score, score, clamped).
    Idempotent: a record that holds a grader_score was applied already. A result the
    grader failed on keeps its requests unapplied (its scores are not the work's)."""
    requests = result.overrides
    if not requests or result.grader_error:
        return result
    from dataclasses import replace
    from autograder.checks.outcome import Status
    records = []
    for request in requests:
        if "grader_score" in request:
            records.append(request)
            continue
        index = next((i for i, item in enumerate(result.items)
                      if item.item_id == request["item"]), None)
        if index is None:   # the item was not graded in this run (--items)
            records.append(dict(request, not_applied="the item was not graded in this run"))
            continue
        item = result.items[index]
        record = dict(request, grader_score=round(float(item.score), 4))
        wanted = (request["points"] if request.get("points") is not None
                  else item.score + float(request.get("delta") or 0))
        score = min(max(wanted, 0.0), float(item.max_score))
        record["score"] = round(score, 4)
        record["clamped"] = ("clamped to [0, %s] from %s" % (_points(item.max_score),
                                                             _points(wanted))
                             if abs(score - wanted) > 1e-9 else "")
        full = score >= item.max_score - 1e-9
        status = Status.PASSED if full else (
            item.status if item.status != Status.PASSED else Status.FAILED)
        output = item.output.rstrip("\n")
        result.items[index] = replace(item, score=score, passed=full, status=status,
                                      output=(output + "\n" if output else "")
                                      + adjusted_line(record))
        records.append(record)
    result.overrides = records
    return result


def by_item(records):
    """{item: applied record} of results.json's extra_data.overrides (unapplied ones left out)."""
    return {r["item"]: r for r in records or () if isinstance(r, dict) and "grader_score" in r}




def overrides_path(spec_path, given=None):
    """The overrides CSV of a run: `given` (the command line's, as typed), else the spec's
    [overrides] file (relative to the spec's folder); None when neither names one."""
    if given:
        return given
    from autograder.spec import load_spec
    name = load_spec(spec_path).overrides.file
    if not name:
        return None
    return os.path.join(os.path.dirname(os.path.abspath(spec_path)), name)


def class_overrides(spec_path, given, submission_ids, any_submission=False):
    """The [Override] of a run, checked against its submissions and the spec's items ([] when
    no file is named); OverrideError when the file or a row cannot be used.
    any_submission: check the items only (one submission graded alone: the class's CSV
    names the others too)."""
    path = overrides_path(spec_path, given)
    if path is None:
        return []
    from autograder.spec import load_spec
    found = read_overrides(path)
    aliases = [o.submission for o in found] if any_submission else None
    check_names(found, submission_ids, load_spec(spec_path).ids(), path, aliases)
    return found


def summary(record):
    """One short phrase for tables: "item: 3 -> 5 by ta" (+ clamped)."""
    text = "%s: %s -> %s by %s" % (record["item"], _points(record["grader_score"]),
                                   _points(record["score"]), record.get("grader") or "staff")
    return text + (" (clamped)" if record.get("clamped") else "")


def _points(value):
    value = round(float(value), 4)
    return ("%d" % value) if value == int(value) else ("%g" % value)
