"""The worker process: a generic runner of trusted calls on untrusted code, one request at a time.

It knows nothing of grading: the grader names the trusted function to call
("autograder.<module>:<function>") and its arguments; what the call does (observe a
check kind, time a loss, train a notebook) is the caller's business.

Started by autograder.sandbox.process (never imported by the grader itself). sys.path
holds the folder with the nndl to test (the student's copy, or solutions/ for the
reference) and the kit's trusted cs231n and autograder. Requests arrive on stdin
and replies leave on --reply-fd, one frame each (autograder.sandbox.arrays: JSON +
raw arrays, never pickles); a request's frame carries its input value, a reply's the result.

Requests:
- {"op": "import", "module": NAME, "placeholder": "autograder.x:Class"}: import nndl.NAME;
  reply ok or the error (a failed module is then the placeholder, if one is named)
- {"op": "call", "function": "autograder.x.y:fn"} with value kwargs:
  fn(**kwargs, nndl=<modules>); the reply carries its return value
- {"op": "exit"}
"""
import argparse
import errno
import importlib
import json
import os
import sys
import traceback

TRUSTED_PREFIX = "autograder."
# Requests come from the grader (trusted); the cap only stops a runaway frame.
MAX_REQUEST_BYTES = 4 << 30
# Appended to out-of-space errors: the sandbox's caps (from --disk-note).
DISK_NOTE = ""


class NndlModules(dict):
    """{module name: module} of the nndl under test, importing on first use."""

    def __missing__(self, name):
        module = importlib.import_module("nndl." + name)
        self[name] = module
        return module


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--reply-fd", type=int, required=True)
    parser.add_argument("--code", default="")
    parser.add_argument("--disk-note", default="")
    args = parser.parse_args(argv)
    global DISK_NOTE
    DISK_NOTE = args.disk_note
    from autograder.sandbox import arrays

    # Keep the request stream and the reply pipe out of student code's way.
    requests = os.fdopen(os.dup(0), "rb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    replies = os.fdopen(args.reply_fd, "wb")
    sys.stdin = open(os.devnull)

    modules = NndlModules()
    code_root = os.path.realpath(args.code) if args.code else ""
    while True:
        frame = arrays.read_frame(requests, MAX_REQUEST_BYTES)
        if frame is None:
            break
        request, value = frame
        if request.get("op") == "exit":
            break
        reply, result = serve(request, value, modules, code_root)
        _flush_std()
        try:
            data = arrays.encode(reply, result)
        except BaseException as error:  # an unpackable result (object arrays...)
            data = arrays.encode({"ok": False, "error": describe(error), "traceback": ""})
        replies.write(data)
        replies.flush()


def serve(request, value, modules, code_root):
    """(reply message, result value) of one request."""
    op = request.get("op")
    try:
        if op == "import":
            return _import(request, modules, code_root), None
        if op == "call":
            function = _trusted(request["function"])
            result = _name_disk_caps(function(nndl=modules, **(value or {})))
        else:
            return {"ok": False, "error": "unknown request %r" % op}, None
        return {"ok": True}, result
    except BaseException as error:  # student code may raise anything, SystemExit included
        return {"ok": False, "error": describe(error),
                "traceback": student_traceback(error, code_root)}, None


def _name_disk_caps(observation):
    """A result whose "error" (JSON with a "message") is 'no space left' (ENOSPC) also names
    the sandbox's caps."""
    if not DISK_NOTE or not isinstance(observation, dict) or "error" not in observation:
        return observation
    try:
        import numpy as np
        info = json.loads(str(np.asarray(observation["error"]).reshape(())[()]))
        if _out_of_space(str(info.get("message", ""))):
            info["message"] = "%s (%s)" % (info["message"], DISK_NOTE)
            observation = dict(observation, error=np.array(json.dumps(info)))
    except (ValueError, TypeError, AttributeError):
        pass
    return observation


def _out_of_space(text):
    return "[Errno %d]" % errno.ENOSPC in text or "[Errno %d]" % errno.EDQUOT in text or \
        "[Errno %d]" % errno.EFBIG in text


def _import(request, modules, code_root):
    """Import nndl.<module>; a failure is reported, and kept in the module mapping as the
    request's trusted "placeholder" class (built from name, error type, message, traceback)
    when it names one."""
    name = request["module"]
    placeholder = _trusted(request["placeholder"]) if request.get("placeholder") else None
    if request.get("failed"):
        message = request["failed"]
        trace = ""
        error_type = request.get("error_type", "ImportError")
    else:
        try:
            modules[name]
            return {"ok": True}
        except BaseException as exc:  # a module may raise anything at import, SystemExit too
            message = describe(exc)
            trace = student_traceback(exc, code_root)
            error_type = type(exc).__name__
            if message.startswith(error_type + ": "):
                message = message[len(error_type) + 2:]
            for key in [k for k in sys.modules if k == "nndl." + name]:
                del sys.modules[key]
    if placeholder is not None:
        modules[name] = placeholder(name, error_type, message, trace)
    return {"ok": False, "error": "nndl/%s.py could not be imported: %s: %s"
            % (name, error_type, message), "traceback": trace}


def _trusted(spec):
    module_name, _, name = spec.partition(":")
    if not module_name.startswith(TRUSTED_PREFIX):
        raise ValueError("refusing to call %s" % spec)
    return getattr(importlib.import_module(module_name), name)


def describe(error):
    """One line naming what went wrong, phrased for the student."""
    if isinstance(error, SystemExit):
        return "student code called sys.exit(%r) / exit()" % (error.code,)
    if isinstance(error, KeyboardInterrupt):
        return "student code raised KeyboardInterrupt"
    if isinstance(error, MemoryError):
        return "MemoryError: the code tried to allocate more memory than allowed %s" % (
            ("(" + str(error) + ")") if str(error) else "")
    if isinstance(error, RecursionError):
        return "RecursionError: %s" % error
    text = str(error)
    if isinstance(error, OSError) and DISK_NOTE and _out_of_space(text):
        text = "%s (%s)" % (text, DISK_NOTE)
    return "%s: %s" % (type(error).__name__, text[:1000]) if text else type(error).__name__


def student_traceback(error, code_root):
    """The traceback lines that point into the code under test (its files only)."""
    frames = traceback.extract_tb(error.__traceback__)
    if isinstance(error, SyntaxError) and error.filename:
        return "%s, line %s: %s" % (_short(error.filename, code_root), error.lineno,
                                     (error.text or "").strip())
    lines = []
    for frame in frames:
        path = os.path.realpath(frame.filename) if frame.filename else ""
        if code_root and path.startswith(code_root + os.sep):
            lines.append("%s, line %d, in %s: %s" % (_short(path, code_root), frame.lineno,
                                                      frame.name, (frame.line or "").strip()))
    return "\n".join(lines[-6:])


def _short(path, code_root):
    path = os.path.realpath(path)
    return os.path.relpath(path, code_root) if code_root and path.startswith(code_root) else \
        os.path.basename(path)


def _flush_std():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


if __name__ == "__main__":
    main()
