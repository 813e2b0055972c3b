"""The notebook checker's preloaded parent: one trusted process per grading process that
imports nbformat (and warms its schema validator) once, then forks a fresh limited child
for each submission's check.

A child started from scratch (`python -I`, parse_limited._run_child) spends 0.5 s of CPU
on every submission before it reads a byte: the interpreter, nbformat's imports and its
first validation. A child forked from this parent starts with all of that done and costs
about 10 ms. Nothing the child does reaches the parent: it limits itself first (address
space, CPU time, no file writes, as parse_limited's child does), parses, prints its
verdicts and exits; the parent itself never reads a submitted file, so the next
submission's child starts from the same clean state.

    reply = run_preloaded(command, paths, limits)  # (child's stdout bytes, exit code, timed
                                                   # out), or None: the caller starts a child

Protocol (pipes, one JSON line each): the grader sends {"paths": [...], "limits": {...}};
the child prints parse_limited's verdict lines; then the parent prints
{"done": true, "code": exit code (negative: killed by that signal), "timed_out": bool}.
The parent enforces the wall-clock limit on the child (it kills it and says so); the
grader's own deadline covers the parent.
"""
import atexit
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time

PRELOADED = "--preloaded"          # the argument that starts the parent (parse_limited.main)
REPLY_BYTES = 64 * 1024            # what the grader keeps of one check's verdict lines
START_SECONDS = 30.0               # the parent's imports
SLACK_SECONDS = 10.0               # the grader's deadline beyond the child's wall limit

_lock = threading.Lock()
_checker = None


class PreloadedChecker:
    """The grader's side of one preloaded parent (see the module docstring)."""

    def __init__(self, command):
        self.owner = os.getpid()
        self.command = list(command)
        self.proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.buffer = b""
        ready = self._line(time.monotonic() + START_SECONDS)
        if ready is None or ready.get("ready") is not True:
            self.close()
            raise OSError("the preloaded notebook checker did not start")

    def run(self, paths, limits):
        """(the child's verdict lines as bytes, exit code or None, timed out) for one check.
        Raises OSError if the parent fails (the caller starts a child from scratch)."""
        request = json.dumps({"paths": list(paths), "limits": limits}) + "\n"
        try:
            self.proc.stdin.write(request.encode())
            self.proc.stdin.flush()
        except (OSError, ValueError) as error:
            raise OSError("the preloaded notebook checker is gone: %s" % error)
        deadline = time.monotonic() + float(limits["wall_seconds"]) + SLACK_SECONDS
        verdicts = []
        while True:
            line = self._line(deadline, raw=True)
            if line is None:
                raise OSError("the preloaded notebook checker stopped answering")
            try:
                done = json.loads(line)
            except ValueError:
                done = None
            if isinstance(done, dict) and done.get("done") is True:
                code = done.get("code")
                return (b"\n".join(verdicts)[:REPLY_BYTES],
                        int(code) if isinstance(code, int) else None,
                        bool(done.get("timed_out")))
            verdicts.append(line)
            if sum(len(v) for v in verdicts) > 4 * REPLY_BYTES:
                raise OSError("the preloaded notebook checker sent too much")

    def _line(self, deadline, raw=False):
        """The next line from the parent (bytes if raw, else parsed JSON), None past the
        deadline or at its end."""
        out = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                return None
            chunk = os.read(out, 65536)
            if not chunk:
                return None
            self.buffer += chunk
            if len(self.buffer) > 4 * REPLY_BYTES:
                return None
        line, self.buffer = self.buffer.split(b"\n", 1)
        if raw:
            return line
        try:
            return json.loads(line)
        except ValueError:
            return None

    def close(self):
        """Stop the parent (it ends on the closed pipe) and reap it."""
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        if self.owner != os.getpid():
            return   # a forked copy of the grader: the parent belongs to the process that forked
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def preloaded_checker(command):
    """This process's preloaded parent (started by `command`, on first use); None where it
    cannot start."""
    global _checker
    with _lock:
        if _checker is not None and (_checker.owner != os.getpid() or _checker.command != command
                                     or _checker.proc.poll() is not None):
            _checker.close()   # forked from its owner, or gone: this process starts its own
            _checker = None
        if _checker is None:
            try:
                _checker = PreloadedChecker(command)
            except OSError:
                return None
        return _checker


def stop_preloaded():
    """Stop this process's preloaded parent, if any (and reap its children's usage)."""
    global _checker
    with _lock:
        if _checker is not None:
            _checker.close()
            _checker = None


atexit.register(stop_preloaded)   # the parent is reaped here, not left to the init process


def run_preloaded(command, paths, limits):
    """(stdout bytes, exit code or None, timed out) of one check by this process's preloaded
    parent (started by `command`), or None if it has none or it failed (it is then stopped)."""
    checker = preloaded_checker(command)
    if checker is None:
        return None
    with _lock:
        try:
            return checker.run(paths, limits)
        except OSError:
            pass
    stop_preloaded()
    return None


# -- the preloaded parent ----------------------------------------------------------------------
def serve(check_in_child):
    """The parent's loop: warm nbformat, say ready, then one forked child per request line.
    check_in_child(limits, paths) runs in the child and returns its exit code."""
    sys.modules.setdefault("rfc3987_syntax", None)   # as parse_limited's child: no lark grammar
    import nbformat
    nbformat.validate(nbformat.v4.new_notebook())    # builds the schema validator once
    out = sys.stdout.buffer
    out.write(b'{"ready": true}\n')
    out.flush()
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
            paths, limits = [str(p) for p in request["paths"]], dict(request["limits"])
            wall = float(limits["wall_seconds"])
        except (ValueError, KeyError, TypeError):
            return 2
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(0)
                code = check_in_child(limits, paths)
                sys.stdout.flush()
            finally:
                os._exit(code)
        code, timed_out = _wait(pid, wall)
        out.write(b"\n" + json.dumps({"done": True, "code": code,
                                      "timed_out": timed_out}).encode() + b"\n")
        out.flush()
    return 0


def _wait(pid, wall_seconds):
    """(exit code, negative for a signal; timed out) of the child, killed past wall_seconds."""
    deadline = time.monotonic() + wall_seconds
    timed_out = False
    try:
        handle = os.pidfd_open(pid)
    except (AttributeError, OSError):
        handle = None
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            timed_out = True
            break
        if handle is not None:
            select.select([handle], [], [], left)
        else:
            time.sleep(min(left, 0.005))
    if handle is not None:
        os.close(handle)
    return os.waitstatus_to_exitcode(status), timed_out
