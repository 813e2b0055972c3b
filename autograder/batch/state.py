"""What a class run has recorded in GRADES_DIR, so that a rerun resumes it.

- batch.json: the class's seed and the digest of the spec it was graded under (a rerun
  grades the rest under the same seed, so a regrade gives the same scores);
- GRADES_DIR/<id>/results.json, written last and atomically, marks a finished
  submission (unless it reports a grader error: those are retried); it records the
  source's fingerprint, so a resubmitted file is regraded;
- '.*.part' files are what a killed atomic write left behind: removed on the next run.
"""
import hashlib
import json
import os
import secrets
import time


from autograder.files import atomic

BATCH_FILE = "batch.json"
FINGERPRINT_DEPTH = 3
FINGERPRINT_MAX_ENTRIES = 20000


class StateError(Exception):
    """GRADES_DIR holds a run that this one must not silently mix with (use --force)."""


def spec_digest(spec_path):
    with open(spec_path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def load_batch(grades_dir):
    try:
        with open(os.path.join(grades_dir, BATCH_FILE)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def settle_batch(grades_dir, spec_path, selection, seed=None, force=False):
    """
    The run record for this run: the recorded one when it matches, else a new one
    (written atomically). `selection` describes what is graded (items, visible_only,
    retrain); a different spec, selection or an explicit other seed needs force=True.
    """
    recorded = load_batch(grades_dir)
    digest = spec_digest(spec_path)
    if recorded is not None and not force:
        clashes = []
        if recorded.get("spec_sha256") != digest:
            clashes.append("the grading spec changed")
        if recorded.get("selection") != selection:
            clashes.append("other items or options were chosen")
        if seed is not None and seed != recorded.get("seed"):
            clashes.append("another --seed was given (recorded: %s)" % recorded.get("seed"))
        if clashes:
            raise StateError("%s holds a run graded differently (%s); pass --force to regrade "
                             "everything" % (grades_dir, "; ".join(clashes)))
        return recorded
    if seed is None:
        seed = recorded["seed"] if recorded and "seed" in recorded else secrets.randbits(63)
    record = {"seed": seed, "spec_sha256": digest, "selection": selection,
              "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    atomic.write_text(os.path.join(grades_dir, BATCH_FILE), json.dumps(record, indent=2) + "\n")
    return record


def fingerprint(path):
    """A cheap digest of a submission's names, sizes and modification times (no reading)."""
    digest = hashlib.sha256()
    try:
        info = os.lstat(path)
    except OSError:
        return "missing"
    digest.update(repr((info.st_size, info.st_mtime_ns, info.st_mode)).encode())
    if os.path.isdir(path):
        count = 0
        for root, dirs, files in os.walk(path):
            depth = os.path.relpath(root, path).count(os.sep)
            if depth >= FINGERPRINT_DEPTH:
                dirs[:] = []
            dirs.sort()
            for name in sorted(files) + sorted(dirs):
                count += 1
                if count > FINGERPRINT_MAX_ENTRIES:
                    break
                full = os.path.join(root, name)
                try:
                    sub = os.lstat(full)
                except OSError:
                    continue
                digest.update(repr((os.path.relpath(full, path), sub.st_size,
                                    sub.st_mtime_ns)).encode())
    return digest.hexdigest()[:32]




def remove_partial_files(grades_dir):
    """Delete what killed atomic writes left ('.NAME.XXXX.part'); returns how many."""
    removed = 0
    for root, dirs, files in os.walk(grades_dir):
        if os.path.relpath(root, grades_dir).count(os.sep) >= 1:
            dirs[:] = []
        for name in files:
            if name.startswith(".") and name.endswith(".part"):
                try:
                    os.remove(os.path.join(root, name))
                    removed += 1
                except OSError:
                    pass
    return removed
