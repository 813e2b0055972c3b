"""The late policy of the spec's [late] table: when a submission was made, its deadline
(with an extension), and the share of its raw score it loses.

    policy = load_spec().late                       # off while policy.deadline is ""
    times = SubmissionTimes.load(policy, spec_dir)  # the CSVs the policy names
    trusted = read_metadata(path)                   # Gradescope only: the file BESIDE the upload
    record = late_record(policy, times, entry_id, source, trusted)  # None, or extra_data.late
    final = score_after(raw_score, record)

Times and identities come only from the instructor's side, never from the upload:
- the spec's times CSV (policy.submission_times: submission, submitted_at), by the
  submission id the grader derives from the file or folder name;
- on Gradescope, its submission_metadata.json beside the upload (/autograder/, not
  /autograder/submission/): `created_at`, and the students in `users`, whom extensions
  may name. autograder/gradescope/run_autograder.py reads it and passes it in as `trusted`;
- in a class run from an LMS export (autograder/lms), the export's own metadata, passed in
  the same shape: Gradescope's submission_metadata.yml (each folder's `:created_at:` and
  `:submitters:`). Canvas's download names no time (its LATE marker says late, not by how
  much: recorded in extra_data.lms and flagged for review when this policy is on), only the
  student's Canvas user id, which extensions may name.
A submission_metadata.json inside the upload is the student's own text: it is never read
(only noticed, so the feedback can say it was ignored). Without a trusted time the policy
cannot be applied: the record says so and nothing is taken.
"""
import csv
import json
import math
import os
import stat
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

METADATA_FILE = "submission_metadata.json"
NO_TRUSTED_TIME = "no submission time from the instructor"
# The feedback's sentence when an upload carries a metadata file of its own.
UPLOAD_METADATA_IGNORED = ("the submission_metadata.json in your upload was ignored: submission "
                           "times and extensions come from the course staff's records only")
METADATA_BYTES = 1024 * 1024
CSV_BYTES = 16 * 1024 * 1024
UNIT_SECONDS = {"day": 86400, "hour": 3600}


class LateError(ValueError):
    """A times or extensions file the instructor gave cannot be used."""


def parse_time(text, where=""):
    """An aware datetime from ISO 8601 ('Z' accepted); a naive one is refused."""
    text = str(text).strip()
    try:
        when = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise LateError("%s%r is not an ISO 8601 date and time" % (where, text))
    if when.tzinfo is None:
        raise LateError("%s%r has no UTC offset" % (where, text))
    return when


def _rows(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        text = f.read(CSV_BYTES + 1)
    if len(text) > CSV_BYTES:
        raise LateError("%s is larger than %d MB" % (path, CSV_BYTES // 2 ** 20))
    reader = csv.DictReader(text.splitlines())
    return [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            for row in reader]


@dataclass
class Extension:
    deadline: datetime = None      # a new deadline, or
    extra: timedelta = None        # time added to the spec's

    def applied_to(self, deadline):
        return self.deadline if self.deadline is not None else deadline + self.extra


@dataclass
class SubmissionTimes:
    """Times by submission id (from the CSV) and extensions by student or submission id."""
    times: dict = field(default_factory=dict)
    extensions: dict = field(default_factory=dict)

    @classmethod
    def load(cls, policy, spec_dir="."):
        # imported here: autograder.report's package imports this module (results.json)
        from autograder.files.csv_cells import original
        loaded = cls()
        if policy.submission_times:
            path = os.path.join(spec_dir, policy.submission_times)
            for n, row in enumerate(_rows(path)):
                # a times file made from the kit's gradebook.csv carries its quoted ids
                sid = original(row.get("submission", ""))
                when = row.get("submitted_at", "")
                if not sid or not when:
                    raise LateError("%s row %d: needs 'submission' and 'submitted_at'"
                                    % (path, n + 2))
                loaded.times[sid] = parse_time(when, "%s row %d: " % (path, n + 2))
        if policy.extensions:
            path = os.path.join(spec_dir, policy.extensions)
            for n, row in enumerate(_rows(path)):
                who = row.get("student") or row.get("submission")
                where = "%s row %d: " % (path, n + 2)
                if not who:
                    raise LateError(where + "needs a 'student' or 'submission'")
                if row.get("deadline"):
                    loaded.extensions[who] = Extension(deadline=parse_time(row["deadline"], where))
                elif row.get("extra_days") or row.get("extra_hours"):
                    try:
                        extra = timedelta(days=float(row.get("extra_days") or 0),
                                          hours=float(row.get("extra_hours") or 0))
                    except ValueError:
                        raise LateError(where + "extra_days / extra_hours must be numbers")
                    loaded.extensions[who] = Extension(extra=extra)
                else:
                    raise LateError(where + "needs 'deadline', 'extra_days' or 'extra_hours'")
        return loaded


def read_metadata(path):
    """
    The JSON object in the metadata file at `path` (Gradescope's, beside the upload), or None
    when it is missing, not a regular file (links are not followed), over METADATA_BYTES or
    not a JSON object. Never call it on a file inside an upload: that is student data.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):   # a folder, fifo or device: not metadata
            return None
        data = _read_at_most(fd, METADATA_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(data) > METADATA_BYTES:
        return None
    try:
        metadata = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    return metadata if isinstance(metadata, dict) else None


def _read_at_most(fd, limit):
    """Up to `limit` bytes of an open file (os.read may return fewer than asked)."""
    chunks, size = [], 0
    while size < limit:
        chunk = os.read(fd, limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def upload_carries_metadata(source):
    """
    Whether the upload (folder or .zip) holds a submission_metadata.json at its top or one
    folder down. Only names are looked at: the file itself is never opened.
    """
    try:
        if os.path.isdir(source):
            if os.path.lexists(os.path.join(source, METADATA_FILE)):
                return True
            return any(os.path.lexists(os.path.join(source, name, METADATA_FILE))
                       for name in os.listdir(source)
                       if os.path.isdir(os.path.join(source, name)))
        if zipfile.is_zipfile(source):
            with zipfile.ZipFile(source) as z:
                names = z.namelist()
            return any(name.strip("/").split("/")[-1] == METADATA_FILE
                       and name.strip("/").count("/") <= 1 for name in names)
    except (OSError, zipfile.BadZipFile, ValueError):
        return False
    return False


def students_in(metadata):
    """The ids an extension may name: each user's sid, email and name."""
    names = []
    for user in (metadata or {}).get("users") or []:
        if isinstance(user, dict):
            names += [str(user[k]) for k in ("sid", "email", "name") if user.get(k)]
    return names


def late_record(policy, times, entry_id, source, trusted=None):
    """
    None when the policy is off; else what results.json keeps under extra_data.late:
    submitted_at, deadline (with an extension), extension, late_hours, units, fraction
    (of the raw score taken), and `unknown` when no trusted time exists (then nothing is
    taken). `trusted` is Gradescope's metadata from beside the upload (or None); `source`,
    the upload, is only checked for a metadata file of its own, which is ignored.
    """
    if not policy.deadline:
        return None
    deadline = parse_time(policy.deadline)
    extension = None
    for who in [entry_id] + students_in(trusted):
        if who in times.extensions:
            extension = who
            deadline = times.extensions[who].applied_to(deadline)
            break
    submitted = times.times.get(entry_id) or trusted_time(trusted)
    record = {"deadline": deadline.isoformat(), "extension": extension, "submitted_at": None,
              "late_hours": 0.0, "units": 0, "unit": policy.unit, "fraction": 0.0}
    if upload_carries_metadata(source):
        record["ignored"] = UPLOAD_METADATA_IGNORED
    if submitted is None:
        record["unknown"] = "%s (not in %s, and no Gradescope metadata beside the upload): " \
            "the late policy was not applied" % (NO_TRUSTED_TIME,
                                                 policy.submission_times or "a times CSV")
        return record
    late = (submitted - deadline).total_seconds()
    record["submitted_at"] = submitted.astimezone(timezone.utc).isoformat()
    if late > policy.grace_minutes * 60:
        units = math.ceil(late / UNIT_SECONDS[policy.unit])
        record.update(late_hours=round(late / 3600, 2), units=units,
                      fraction=round(min(policy.max_penalty, units * policy.penalty_per_unit), 6))
    return record


def trusted_time(trusted):
    """created_at of Gradescope's own metadata, or None (missing or not a valid time)."""
    if not trusted or not trusted.get("created_at"):
        return None
    try:
        return parse_time(trusted["created_at"])
    except LateError:
        return None


def untimed_warning(records):
    """One stderr line for a class run: how many submissions had no trusted time ('' if none)."""
    untimed = sum(1 for record in records if record and record.get("unknown"))
    if not untimed:
        return ""
    return ("late policy: %d of %d submissions have no submission time from the instructor "
            "(add them to the spec's [late] submission_times CSV); they get no late penalty" % (untimed, len(records)))


def penalty_points(raw_score, record):
    return round(raw_score * record["fraction"], 4) if record else 0.0


def score_after(raw_score, record):
    return round(raw_score - penalty_points(raw_score, record), 4)


def describe(raw_score, max_score, record):
    """
    The feedback's late text: the penalty line when one was taken, and a sentence when the
    upload's own metadata file was ignored; '' when neither (or the policy is off).
    """
    if not record:
        return ""
    lines = [penalty_line(raw_score, max_score, record)] if record.get("fraction") else []
    if record.get("ignored"):
        lines.append("Note: " + record["ignored"])
    return " ".join(lines)   # one line: the reports put it in a single paragraph


def penalty_line(raw_score, max_score, record):
    """One line: when it was submitted, how late, and what the penalty took."""
    return "%s %g: -%g, score %g / %g" % (
        describe_share(record), raw_score, penalty_points(raw_score, record),
        score_after(raw_score, record), max_score)


def describe_share(record):
    """The late line without any points ('' when on time or the policy is off): for a
    text students see before the points of every item are published."""
    if not record or not record.get("fraction"):
        return ""
    unit = record["unit"] + ("s" if record["units"] != 1 else "")
    return ("Late: submitted %s, %g h after the deadline (%s): %d %s late, penalty %g%% of "
            "the raw score" % (record["submitted_at"], record["late_hours"], record["deadline"],
                               record["units"], unit, round(100 * record["fraction"], 2)))


def class_policy(spec_path):
    """late_record bound to the spec's policy and files: f(entry_id, source, trusted=None) ->
    record; `trusted` is an LMS export's own metadata for that submission (autograder.lms)."""
    from autograder.spec import load_spec
    policy = load_spec(spec_path).late
    times = SubmissionTimes.load(policy, os.path.dirname(os.path.abspath(spec_path)))
    return lambda entry_id, source, trusted=None: late_record(policy, times, entry_id, source,
                                                              trusted)

