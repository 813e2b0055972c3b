"""The records a results.json keeps beside the scores (extra_data), read back from its dict.

A class run compares them with what it would record now (late, lms identity, overrides,
batch fingerprint and seed) to decide what to regrade, and the class reports read them
(review, late, overrides); each reader returns None or empty when the record is missing or
malformed, so a damaged file means "regrade", never a crash.
"""
from autograder.results import text

OVERRIDE_REQUEST_KEYS = ("item", "points", "delta", "comment", "grader")


def extra_of(data) -> dict:
    """extra_data of a results.json dict ({} when none)."""
    extra = data.get("extra_data") if isinstance(data, dict) else None
    return extra if isinstance(extra, dict) else {}


def late(data):
    """The late record (autograder.policy.late.late_record), or None."""
    return extra_of(data).get("late")


def lms(data):
    """The LMS identity (autograder.lms: kind, the LMS's ids, names, late marker), or None."""
    return extra_of(data).get("lms")


def overrides(data) -> list:
    """The override records kept in the file (requests, or the applied records) ([]: none)."""
    found = extra_of(data).get("overrides")
    return found if isinstance(found, list) else []


def override_requests(data):
    """The staff's override requests kept in the file (a tuple; None when unreadable), in the
    form autograder.policy.overrides.requests_for gives them."""
    try:
        return tuple({k: r.get(k) for k in OVERRIDE_REQUEST_KEYS}
                     for r in extra_of(data).get("overrides") or [])
    except (AttributeError, TypeError):
        return None


def finished(data, fingerprint, seed) -> bool:
    """True if `data` is a complete result of the source with this fingerprint graded under
    `seed`. A report of a grader error is not finished: a plain rerun regrades exactly those."""
    extra = extra_of(data)
    if not data or extra.get("grader_error"):
        return False
    batch = extra.get("batch") if isinstance(extra.get("batch"), dict) else {}
    return batch.get("fingerprint") == fingerprint and extra.get("seed") == seed


def review(data) -> str:
    """Why a result needs the staff's eyes ('' when it does not): an upload the grader could
    not read (its 0 is not a student's real zero), the accuracy item's fallback to the
    student's own code for the held-out images, or the LMS's own doubt (a Canvas late
    marker without a time). One printable line, capped: the reasons may quote file names."""
    extra = extra_of(data)
    reasons = []
    if extra.get("unreadable"):
        reasons.append(str(extra["unreadable"]))
    accuracy = extra.get("accuracy") or {}
    if isinstance(accuracy, dict) and accuracy.get("needs_review"):
        reasons.append(str(accuracy.get("review_reason") or "accuracy needs review"))
    identity = lms(data)
    if isinstance(identity, dict) and identity.get("review"):
        reasons.append(str(identity["review"]))
    return text.printable(text.cut("; ".join(reasons), 300), one_line=True) if reasons else ""
