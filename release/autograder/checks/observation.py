"""The observation format: what `observe` returns and `judge` reads.

An observation is a flat dict of str -> np.ndarray, so it round-trips through
np.savez / np.load(allow_pickle=False) unchanged (text is a 0-d unicode array).
Reserved keys:

- "error": 0-d str, JSON {"type", "message", "where", "traceback", "at"} when the
  student's code raised (or could not be imported, or the sandbox killed it:
  build that with error_observation). Other keys may still be present
  (whatever was observed before the failure). "at" names the last frame in
  the student's nndl files (function, file, line), so a failure deep in the
  kit (a Cython fast layer) still points at the student's call.
- "stdout.chars": 0-d int64, characters the student's code printed;
  "stdout.head": 0-d str, the first STDOUT_HEAD of them.
- "mutated": 0-d str, JSON list of "function: argument" that the student's
  code wrote into.
- "num.<input>.index|value|dir_numeric|dir_analytic": numerical-gradient probes
  of the student's own forward (see checks/numeric.py).
- "diag.<...>": observations only used for diagnosis hints.
Any other key is an output (out, dx, loss, scores, grad.W1, ...).
"""
import json
import traceback

import numpy as np

STDOUT_HEAD = 2000
_TRACEBACK_FRAMES = 6


def text(value):
    """A str as a 0-d unicode array."""
    return np.array(str(value))


def read_text(obs, key, default=""):
    """The str stored under key (or default), tolerating any array shape."""
    if key not in obs:
        return default
    value = np.asarray(obs[key])
    if value.dtype.kind not in "US" or value.size != 1:
        return default
    return str(value.reshape(())[()])


def read_json(obs, key, default=None):
    raw = read_text(obs, key, None)
    if raw is None:
        return default
    try:
        return json.loads(raw)
    except ValueError:
        return default


def error_observation(error_type, message, where="", trace=""):
    """An observation that only says the student's code failed (usable by the sandbox side)."""
    return {"error": text(json.dumps({"type": str(error_type), "message": str(message),
                                      "where": str(where), "traceback": str(trace)}))}


def short_traceback(exc, skip_files=(), within="", frames=_TRACEBACK_FRAMES):
    """The last `frames` frames of exc's traceback (the one traceback filter of the checks):
    without frames of files in skip_files or of Python's frozen import machinery, and only
    those of files under `within` when given."""
    kept = [frame for frame in traceback.extract_tb(exc.__traceback__)
            if not any(frame.filename.endswith(skip) for skip in skip_files)
            and not frame.filename.startswith("<frozen") and within in frame.filename]
    return "".join(traceback.format_list(kept[-frames:])).rstrip()


def student_frame(exc):
    """'<function> (nndl/<file>.py, line N: <code>)' of the last traceback frame in an nndl file, or ''."""
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__)
              if _in_nndl(frame.filename)]
    if not frames:
        return ""
    frame = frames[-1]
    code = (frame.line or "").strip()
    return "%s (nndl/%s, line %d%s)" % (frame.name, frame.filename.replace("\\", "/").rsplit("/", 1)[-1],
                                         frame.lineno, ": " + code[:120] if code else "")


def _in_nndl(filename):
    parts = filename.replace("\\", "/").split("/")
    return len(parts) >= 2 and parts[-2] == "nndl" and parts[-1].endswith(".py")


def error_of(obs):
    """The error dict of an observation, or None."""
    if "error" not in obs:
        return None
    info = read_json(obs, "error", None)
    if not isinstance(info, dict):
        return {"type": "Error", "message": read_text(obs, "error", "unreadable error"),
                "where": "", "traceback": ""}
    return info


def describe_error(info):
    """One paragraph for students: where, what, and the traceback if any."""
    where = (info.get("where") or "your code")
    line = "%s raised %s: %s" % (where, info.get("type", "Error"), info.get("message", ""))
    if info.get("type") in ("StudentImportError",):
        line = info.get("message", "")
    if info.get("at"):
        line += "\n    in your %s" % info["at"]
    trace = info.get("traceback") or ""
    if trace:
        line += "\n" + "\n".join("    " + row for row in trace.splitlines())
    return line
