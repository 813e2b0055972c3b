"""The records a results.json keeps beside the scores (extra_data), read back from its dict.

A class run compares them with what it would record now (late, lms identity, overrides,
batch fingerprint and seed) to decide what to regrade; each reader returns None when the
record is missing or malformed, so a damaged file means "regrade", never a crash.
"""

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
