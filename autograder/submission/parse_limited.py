"""Parse untrusted files (the submitted notebooks) in a limited child process.

No student code runs here, but the files are the student's: a notebook nested
200,000 levels deep raises RecursionError, a 60 MB one made of tiny cells takes
gigabytes to validate. So the grader never parses them itself: it starts trusted
code (`python -I`, this module) in a child that limits itself first (address space,
CPU time, no file writes) and checks each file in turn, printing one JSON line per
verdict. The parent adds a wall-clock deadline. Whatever happens in the child
(an exception, MemoryError, a crash, a timeout) becomes a one-line problem about
the file, never a grader error.

    problems = check_notebooks(paths, limits)   # {path: '' if valid, else the problem}
"""
import json
import os
import resource
import signal
import stat
import subprocess
import sys
from dataclasses import dataclass

from autograder import kit
from autograder.submission import parse_preloaded

KIT_ROOT = str(kit.KIT_ROOT)
PROBLEM_CHARS = 200          # a problem is one line for the student
REPLY_BYTES = parse_preloaded.REPLY_BYTES   # read back per round (the child is trusted, but brief)
# Started with -I (no user site, no PYTHON* variables, no current folder on the path), the
# child finds this kit by its folder, whether installed or run from a checkout.
BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
        "from autograder.submission.parse_limited import main; sys.exit(main(sys.argv[2:]))")


@dataclass(frozen=True)
class ParseLimits:
    """
    - file_mb: a bigger file is refused before any parsing (spec: settings.notebook_limit_mb)
    - memory_mb: address space of the child (python + nbformat need about 150 MB)
    - cpu_seconds, wall_seconds: CPU time of the child, and the parent's deadline per round
    """
    file_mb: float = 20
    memory_mb: int = 1536
    cpu_seconds: int = 30
    wall_seconds: float = 60.0


def check_notebooks(paths, limits=ParseLimits()):
    """{path: '' if it is a valid notebook, else a one-line problem}, parsed in limited children."""
    verdicts = {}
    pending = []
    for path in paths:
        problem = _size_problem(path, limits.file_mb)
        if problem:
            verdicts[path] = problem
        else:
            pending.append(path)
    # One child checks the pending files in order; if it dies on one, that file gets the
    # reason and a new child checks the rest (each round settles at least one file).
    while pending:
        reported, failure = _run_child(pending, limits)
        verdicts.update(reported)
        rest = [p for p in pending if p not in reported]
        if rest and failure:
            verdicts[rest[0]] = failure
            rest = rest[1:]
        elif rest:
            verdicts[rest[0]] = "could not be checked (the checker gave no answer)"
            rest = rest[1:]
        pending = rest
    return verdicts


def _size_problem(path, file_mb):
    try:
        info = os.lstat(path)
    except OSError as error:
        return "cannot be read (%s)" % error.strerror
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file"
    if info.st_size > file_mb * 2 ** 20:
        return "is %.0f MB, over the %g MB limit for a notebook: clear large outputs and " \
               "resubmit" % (info.st_size / 2 ** 20, file_mb)
    return ""


PRELOADED_COMMAND = [sys.executable, "-I", "-c", BOOT, KIT_ROOT, parse_preloaded.PRELOADED]


def _run_child(paths, limits):
    """({path: problem} the child reported, why it stopped early or ''). The child is forked
    from the preloaded parent (parse_preloaded.py), or started from scratch without one."""
    reply = parse_preloaded.run_preloaded(PRELOADED_COMMAND, paths, vars(limits))
    if reply is not None:
        out, code, timed_out = reply
    else:
        command = [sys.executable, "-I", "-c", BOOT, KIT_ROOT, json.dumps(vars(limits))] + \
            list(paths)
        try:
            proc = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, timeout=limits.wall_seconds)
            out, code, timed_out = proc.stdout, proc.returncode, False
        except subprocess.TimeoutExpired as expired:  # run() has killed the child
            out, code, timed_out = expired.stdout or b"", None, True
    reported = {}
    for line in out[:REPLY_BYTES].decode("utf-8", "replace").splitlines():
        try:
            verdict = json.loads(line)
            index, problem = int(verdict["index"]), str(verdict["problem"])
        except (ValueError, KeyError, TypeError):
            continue
        if 0 <= index < len(paths):
            reported[paths[index]] = _one_line(problem)
    if timed_out:
        return reported, "took more than %g s to check (too large or too complex)" \
            % limits.wall_seconds
    if code == 0:
        return reported, ""
    if code is not None and code < 0:
        name = _signal_name(-code)
        why = "more than %g s of CPU" % limits.cpu_seconds if -code in (
            signal.SIGXCPU, signal.SIGKILL) else "the checker crashed with %s" % name
        return reported, "could not be checked (%s): too large or too complex" % why
    return reported, "could not be checked (the checker stopped with code %s)" % code


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return "signal %d" % number


def _one_line(text):
    text = " ".join(str(text).split())
    return text if len(text) <= PROBLEM_CHARS else text[:PROBLEM_CHARS - 3] + "..."


# -- the child -------------------------------------------------------------------------------
def _limit_self(limits):
    memory = int(limits["memory_mb"]) * 2 ** 20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _read_capped(path, cap):
    """The file's bytes; refuses links, pipes and devices, and anything over cap."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _Refused("is not a regular file")
        data = f.read(cap + 1)
    if len(data) > cap:
        raise _Refused("is over the size limit for a notebook")
    return data


class _Refused(Exception):
    pass


def notebook_problem_here(path, cap_bytes):
    """'' if path is a valid notebook, else the problem; runs in the limited child only."""
    try:
        text = _read_capped(path, cap_bytes).decode("utf-8")
    except _Refused as refused:
        return str(refused)
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    except OSError as error:
        return "cannot be read (%s)" % error.strerror
    try:
        content = json.loads(text)
    except RecursionError:
        return "is nested too deeply to be read as JSON"
    except ValueError as error:
        return "is not valid JSON (%s)" % error
    if not isinstance(content, dict) or "cells" not in content:
        return "is JSON but not a notebook (no 'cells')"
    del content
    # jsonschema's optional IRI format checks build a lark grammar when imported (about 1 s
    # of CPU in every submission's child); nbformat's schemas use no "format", so none is lost.
    sys.modules.setdefault("rfc3987_syntax", None)
    import nbformat  # slow to import (jsonschema); only needed when a notebook is there
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except RecursionError:
        return "is nested too deeply to be validated"
    except MemoryError:
        raise
    except Exception as error:  # nbformat raises several types for malformed notebooks
        message = str(error).strip()
        first_line = message.splitlines()[0] if message else type(error).__name__
        return "is not a valid notebook (%s)" % first_line
    return ""


def main(argv):
    """Child entry point: argv = [limits as JSON, path, ...]; one JSON line per path. With
    argv = [PRELOADED], the preloaded parent that forks such children (parse_preloaded.py)."""
    if argv == [parse_preloaded.PRELOADED]:
        return parse_preloaded.serve(check_here)
    return check_here(json.loads(argv[0]), argv[1:])


def check_here(limits, paths):
    """Limit this process, then print one verdict line per path; returns the exit code."""
    _limit_self(limits)
    cap = int(float(limits["file_mb"]) * 2 ** 20)
    for index, path in enumerate(paths):
        try:
            problem = notebook_problem_here(path, cap)
        except MemoryError:
            problem = "needs more than %d MB of memory to be checked: too large or too " \
                      "complex" % int(limits["memory_mb"])
        except Exception as error:  # anything else the file provokes is still about the file
            problem = "could not be checked (%s)" % type(error).__name__
        sys.stdout.write(json.dumps({"index": index, "problem": _one_line(problem)}) + "\n")
        sys.stdout.flush()
    return 0
