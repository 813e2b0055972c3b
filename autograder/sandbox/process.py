"""The grader's side of one worker process: start it, send requests, enforce the limits.

Requests go to the worker's stdin as JSON lines; replies come back as JSON lines
on a private pipe (the worker's fd given by --reply-fd), so nothing the student
prints can be mistaken for a reply. stdout and stderr share one pipe, drained by a
thread that keeps the first `output_bytes` and stops the worker past that.
"""
import json
import os
import select
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

from autograder.sandbox.lifetime import die_with_parent

MAX_REPLY_BYTES = 1024 * 1024


@dataclass
class Reply:
    """
    status: 'ok' (data holds the worker's reply), 'error' (the request raised in the
    worker: data holds 'error' and 'traceback'), 'timeout', 'died', 'output_limit'
    message: one line for the student when status is not 'ok'
    output: what the worker printed while serving the request (capped)
    seconds: wall time of the request
    """
    status: str
    data: dict
    message: str
    output: str
    seconds: float


class WorkerProcess:
    def __init__(self, launch, output_bytes):
        self.launch = launch
        self.output_bytes = output_bytes
        self._proc = None
        self._reply_r = None
        self._output = bytearray()
        self._output_total = 0
        self._lock = threading.Lock()
        self._over_limit = threading.Event()
        self._drain = None
        self._buffer = b""

    # -- lifetime -------------------------------------------------------------------------
    def start(self):
        reply_r, reply_w = os.pipe()
        out_r, out_w = os.pipe()
        argv = list(self.launch.argv) + ["--reply-fd", str(reply_w)]
        try:
            self._proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=out_w, stderr=out_w, cwd=self.launch.cwd,
                env=self.launch.env, pass_fds=(reply_w,), preexec_fn=self._preexec,
                close_fds=True)
        finally:
            os.close(reply_w)
            os.close(out_w)
        self._reply_r = reply_r
        self._drain = threading.Thread(target=self._drain_output, args=(out_r,), daemon=True)
        self._drain.start()
        return self

    def _preexec(self):
        # A worker never outlives the grader that started it (even one killed with SIGKILL).
        die_with_parent()
        if self.launch.preexec is not None:
            self.launch.preexec()

    @property
    def alive(self):
        return self._proc is not None and self._proc.poll() is None

    def kill(self):
        """Kill the worker and everything it started (its session / pid namespace)."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            for target in (lambda: os.killpg(self._proc.pid, signal.SIGKILL),
                           lambda: self._proc.kill()):
                try:
                    target()
                except (ProcessLookupError, PermissionError, OSError):
                    pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._close_pipes()

    def close(self, grace=2.0):
        """Ask the worker to exit; kill it if it does not within `grace` seconds."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            try:
                self._proc.stdin.write(b'{"op": "exit"}\n')
                self._proc.stdin.flush()
                self._proc.wait(timeout=grace)
            except (OSError, subprocess.TimeoutExpired, ValueError):
                pass
        self.kill()

    def _close_pipes(self):
        for closer in (lambda: self._proc.stdin.close(), lambda: os.close(self._reply_r)):
            try:
                closer()
            except (OSError, ValueError, TypeError):
                pass
        self._reply_r = None
        if self._drain is not None:
            self._drain.join(timeout=5)

    # -- requests -------------------------------------------------------------------------
    def request(self, message, timeout):
        """Send one request and wait up to `timeout` seconds of wall clock for its reply."""
        start = time.monotonic()
        mark = self._output_mark()
        if not self.alive:
            return self._finish("died", {}, self._death_message(), mark, start)
        try:
            self._proc.stdin.write(json.dumps(message).encode("utf-8") + b"\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            return self._finish("died", {}, self._death_message(), mark, start)
        deadline = start + timeout
        while True:
            line = self._take_line()
            if line is not None and not self._over_limit.is_set():
                return self._parse(line, mark, start)
            if self._over_limit.is_set():
                self.kill()
                return self._finish("output_limit", {}, "printed more than %d KB of output; "
                                    "remove debug prints" % (self.output_bytes // 1024), mark, start)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                return self._finish("timeout", {}, "did not finish within %g s (infinite loop "
                                    "or far too slow?)" % timeout, mark, start)
            ready, _, _ = select.select([self._reply_r], [], [], min(remaining, 0.25))
            if ready:
                chunk = os.read(self._reply_r, 65536)
                if not chunk:
                    self._proc_wait_briefly()
                    return self._finish("died", {}, self._death_message(), mark, start)
                self._buffer += chunk
                if len(self._buffer) > MAX_REPLY_BYTES:
                    self.kill()
                    return self._finish("died", {}, "sent an oversized reply", mark, start)

    def _take_line(self):
        if b"\n" not in self._buffer:
            return None
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def _parse(self, line, mark, start):
        try:
            data = json.loads(line.decode("utf-8"))
            if not isinstance(data, dict):
                raise ValueError
        except ValueError:
            self.kill()
            return self._finish("died", {}, "sent a malformed reply", mark, start)
        if data.get("ok"):
            return self._finish("ok", data, "", mark, start)
        return self._finish("error", data, str(data.get("error", "failed"))[:2000], mark, start)

    def _finish(self, status, data, message, mark, start):
        time.sleep(0) if status == "ok" else self._settle_output()
        return Reply(status=status, data=data, message=message, output=self._output_since(mark),
                     seconds=time.monotonic() - start)

    def _proc_wait_briefly(self):
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()

    def _death_message(self):
        code = self._proc.poll() if self._proc else None
        if code is None:
            return "the worker stopped answering"
        if code > 128 and code - 128 in signal.Signals._value2member_map_ and self.launch.protections.get(
                "pid_namespace"):
            code = -(code - 128)  # the namespace's init (bwrap, unshare) reports a signal as 128+N
        if code < 0:
            sig = -code
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            hint = {signal.SIGXCPU: " (CPU time limit)", signal.SIGKILL: " (killed; memory or "
                    "time limit?)", signal.SIGSEGV: " (crash)", signal.SIGXFSZ: " (wrote a file "
                    "over the size limit)"}.get(sig, "")
            return "the process was killed by %s%s" % (name, hint)
        return ("the process exited with code %d (os._exit, sys.exit or exit() in student code?)"
                % code)

    # -- output -----------------------------------------------------------------------------
    def _drain_output(self, fd):
        try:
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                with self._lock:
                    self._output_total += len(chunk)
                    room = self.output_bytes - len(self._output)
                    if room > 0:
                        self._output += chunk[:room]
                    if self._output_total > self.output_bytes:
                        self._over_limit.set()
        except OSError:
            pass
        finally:
            os.close(fd)

    def _output_mark(self):
        with self._lock:
            return len(self._output)

    def _output_since(self, mark):
        with self._lock:
            text = bytes(self._output[mark:]).decode("utf-8", "replace")
        return text

    def _settle_output(self):
        # Output written just before a crash may still sit in the pipe.
        if self._drain is not None and not self.alive:
            self._drain.join(timeout=1)
