"""results.json on disk: the one module that writes and reads it.

Every writer (a grade run, a class run's crash reports, the Gradescope runner) and every
reader (resume, gradebook.csv, changes.csv, the class report, the exports, the LMS
identity of a resubmission, the benchmark) goes through dump/load here, so the file
is always written atomically and bounded (autograder.results.schema.dumps), and read
with the same refusals: a link, a pipe or an oversized file is not read (a grades folder
can be shared with the staff, and a file in it replaced by anyone who can write there).
"""
import json
import os
import shutil
import stat

from autograder.files import atomic
from autograder.results import schema

RESULTS_FILE = "results.json"
# A bounded results.json of the full spec is well under 2 MB; anything far larger is not ours.
MAX_BYTES = 64 * 2 ** 20


def path_in(out_dir) -> str:
    """The results.json of a submission's report folder."""
    return os.path.join(out_dir, RESULTS_FILE)


def dump(out_dir, result, after_late_penalty=False, published=False):
    """Write `result` (a GradeResult) as out_dir/results.json, atomically and bounded.
    after_late_penalty: the score written is after the late penalty, raw_score beside it
    (Gradescope keeps the file's score; a class run applies the penalty in the gradebook);
    published: grades are published (schema.results_json)."""
    atomic.write_text(path_in(out_dir), schema.dumps(result, after_late_penalty, published))


def dump_data(path, data):
    """Write a results.json dict that is no GradeResult (the Gradescope runner's failure
    report) to `path`, atomically and JSON-clean."""
    atomic.write_text(path, schema.dumps_data(data))


def exists(out_dir) -> bool:
    """out_dir holds a results.json that is a regular file (a link is not one)."""
    try:
        return stat.S_ISREG(os.lstat(path_in(out_dir)).st_mode)
    except OSError:
        return False


def load_file(path):
    """The dict in the results.json file at `path`; None when it is missing, not a regular
    file (links and pipes are refused, never followed), larger than MAX_BYTES, not JSON,
    or not an object."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            return None
        with os.fdopen(fd, "rb") as f:
            fd = None
            raw = f.read(MAX_BYTES + 1)
    except OSError:
        return None
    finally:
        if fd is not None:
            os.close(fd)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def load(out_dir):
    """The dict in out_dir/results.json (None as load_file says)."""
    return load_file(path_in(out_dir))


def copy(out_dir, dest):
    """Copy out_dir/results.json to `dest` atomically (for the comparison of a regrade);
    False when there is no regular results.json to copy."""
    if not exists(out_dir):
        return False
    partial = dest + ".part"
    shutil.copyfile(path_in(out_dir), partial, follow_symlinks=False)
    os.replace(partial, dest)
    return True


def written_at(out_dir):
    """When out_dir/results.json was last written (seconds since the epoch; None if none).
    The benchmark's class wall time ends at the last one."""
    try:
        info = os.lstat(path_in(out_dir))
    except OSError:
        return None
    return info.st_mtime if stat.S_ISREG(info.st_mode) else None
