"""The observation format: what `observe` returns and `judge` reads.

An observation is a flat dict of str -> np.ndarray, so it round-trips through
np.savez / np.load(allow_pickle=False) unchanged (text is a 0-d unicode array).
Reserved keys:

- "error": 0-d str, JSON {"type", "message", "where", "traceback", "at"[, "context"]} when the
  student's code raised (or could not be imported, or the sandbox killed it:
  build that with error_observation). Other keys may still be present
  (whatever was observed before the failure). "at" names the last frame in
  the student's nndl files (function, file, line), so a failure deep in the
  kit (a Cython fast layer) still points at the student's call. "traceback" holds
  frames of the student's nndl/*.py files only; when there is none, "context" says
  in words where the error came from.
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
import re
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
    """The last `frames` frames of exc's traceback that are the student's own: frames of
    nndl/*.py files only (never the grader's, the kit's, the sandbox's or a library's), shown
    as nndl/<file>.py whatever folder holds them. skip_files and within narrow them further
    (files to leave out; only files under `within`)."""
    kept = [frame for frame in traceback.extract_tb(exc.__traceback__)
            if _in_nndl(frame.filename) and within in frame.filename
            and not any(frame.filename.endswith(skip) for skip in skip_files)]
    return "".join(_format_frame(frame) for frame in kept[-frames:]).rstrip()


def _format_frame(frame):
    """One frame as Python prints it, its file named nndl/<file>.py (the folder holding the
    student's files, a sandbox path, is nobody's business)."""
    text = '  File "%s", line %s, in %s\n' % (_nndl_name(frame.filename), frame.lineno, frame.name)
    code = (frame.line or "").strip()
    return text + ("    %s\n" % code if code else "")


def _nndl_name(filename):
    return "nndl/" + filename.replace("\\", "/").rsplit("/", 1)[-1]


def outside_student_code(exc, where):
    """In words, where an exception that no frame of the student's nndl files raised came from:
    '' when one did (the traceback shows it)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if any(_in_nndl(frame.filename) for frame in frames):
        return ""
    last = frames[-1].filename.replace("\\", "/") if frames else ""
    if "/site-packages/" in last or "/dist-packages/" in last:
        origin = "in library code (%s)" % last.split("-packages/", 1)[1].split("/", 1)[0]
    else:
        origin = "in the grader's own code"
    return ("No line of your nndl/ files is in the traceback: it was raised %s when the grader "
            "called %s (for instance a function missing from nndl/, or one taking other arguments "
            "than its docstring says)." % (origin, where or "your code"))


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
    """One paragraph for students: where, what, and the traceback if any (its frames of the
    student's nndl files only; without one, where the error came from in words)."""
    where = (info.get("where") or "your code")
    line = "%s raised %s: %s" % (where, info.get("type", "Error"), info.get("message", ""))
    if info.get("type") in ("StudentImportError",):
        line = info.get("message", "")
    if info.get("at"):
        line += "\n    in your %s" % info["at"]
    trace = "\n".join(student_lines(info.get("traceback") or ""))
    if trace:
        line += "\n" + "\n".join("    " + row for row in trace.splitlines())
    if info.get("context"):
        line += "\n    " + info["context"]
    return line


_FRAME_LINE = re.compile(r'^\s*File "([^"]*)", line')
# Paths a student's traceback never shows, whoever wrote the traceback text.
_KIT_PATH = re.compile(r"(^|[\s\"'(/])(autograder|site-packages|dist-packages|cs231n)/")


def student_lines(trace):
    """The lines of a traceback text that belong to the student's own frames: a frame of a
    file other than nndl/*.py goes with its code line, and so does any line naming a path of
    the kit (an observation from elsewhere than short_traceback, e.g. an older sandbox)."""
    kept, skipping = [], False
    for row in trace.splitlines():
        frame = _FRAME_LINE.match(row)
        if frame:
            skipping = not _in_nndl(frame.group(1))
        elif skipping and row.startswith("    "):
            continue  # the code line of a skipped frame
        else:
            skipping = False
        if not skipping and not _KIT_PATH.search(row):
            kept.append(row)
    return kept
