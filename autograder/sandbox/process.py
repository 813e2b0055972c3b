"""The grader's side of one worker process: start it, send requests, enforce the limits.

Requests go to the worker's stdin and replies come back on a private pipe (the
worker's fd given by --reply-fd), each one frame of JSON + raw arrays (sandbox.arrays), so
nothing the student prints can be mistaken for a reply and no file is involved.
Both directions run against the request's deadline (a worker that stops reading or
goes silent mid-reply times out), and a reply declaring more than MAX_REPLY_BYTES is
refused before it is read. stdout and stderr share one pipe, drained by a thread
that keeps the first `output_bytes` and stops the worker past that.
"""
import os
import select
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

from autograder.sandbox import arrays
from autograder.sandbox.lifetime import die_with_parent
from autograder.submission.layout import MAX_MODEL_BYTES

# A reply may carry a retrained model's bytes; anything bigger is refused unread.
MAX_REPLY_BYTES = MAX_MODEL_BYTES + 64 * 1024 * 1024
WRITE_CHUNK = 1 << 20


@dataclass
class Reply:
    """
    status: 'ok' (data holds the worker's reply), 'error' (the request raised in the
    worker: data holds 'error' and 'traceback'), 'timeout', 'died', 'output_limit'
    message: one line for the student when status is not 'ok'
    output: what the worker printed while serving the request (capped)
    seconds: wall time of the request
    value: the value the reply frame carried (status 'ok': the result)
    """
    status: str
    data: dict
    message: str
    output: str
    seconds: float
    value: object = None


class WorkerProcess:
    """
    - launch: isolation.Launch
    - output_bytes: printed output kept; past it the worker is stopped
    - watch: optional callable, polled about once a second while a request runs; a str it
      returns stops the worker and fails the request with that message (e.g. a disk cap)
    """
    WATCH_SECONDS = 1.0

    def __init__(self, launch, output_bytes, watch=None):
        self.launch = launch
        self.output_bytes = output_bytes
        self.watch = watch
        self._proc = None
        self._reply_r = None
        self._output = bytearray()
        self._output_total = 0
        self._lock = threading.Lock()
        self._over_limit = threading.Event()
        self._drain = None
        self._buffer = bytearray()

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
        os.set_blocking(self._proc.stdin.fileno(), False)
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
                os.write(self._proc.stdin.fileno(), arrays.encode({"op": "exit"}))
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
    def request(self, message, timeout, value=None):
        """Send one request (a JSON-ready dict and a value for its frame) and wait up to
        `timeout` seconds of wall clock for the reply."""
        start = time.monotonic()
        deadline = start + timeout
        mark = self._output_mark()
        if not self.alive:
            return self._finish("died", {}, self._death_message(), mark, start)
        self._buffer = bytearray()  # nothing is owed before a request: stray bytes are junk
        sent = self._send(arrays.encode(message, value), deadline)
        if sent == "died":
            return self._finish("died", {}, self._death_message(), mark, start)
        if sent == "timeout":
            return self._timed_out(timeout, mark, start)
        watched = time.monotonic()
        while True:
            try:
                frame = self._take_frame()
            except arrays.FrameError as error:
                self.kill()
                return self._finish("died", {}, "sent an unreadable reply (%s)" % error, mark,
                                    start)
            if frame is not None and not self._over_limit.is_set():
                return self._reply(frame, mark, start)
            if self._over_limit.is_set():
                self.kill()
                return self._finish("output_limit", {}, "printed more than %d KB of output; "
                                    "remove debug prints" % (self.output_bytes // 1024), mark, start)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._timed_out(timeout, mark, start)
            if self.watch is not None and time.monotonic() - watched >= self.WATCH_SECONDS:
                watched = time.monotonic()
                problem = self.watch()
                if problem:
                    self.kill()
                    return self._finish("error", {}, problem, mark, start)
            ready, _, _ = select.select([self._reply_r], [], [], min(remaining, 0.25))
            if ready:
                chunk = os.read(self._reply_r, WRITE_CHUNK)
                if not chunk:
                    self._proc_wait_briefly()
                    return self._finish("died", {}, self._death_message(), mark, start)
                self._buffer += chunk

    def _send(self, frame, deadline):
        """Write the whole frame to the worker's stdin before the deadline: 'ok', 'timeout' or
        'died'."""
        fd = self._proc.stdin.fileno()
        view = memoryview(frame)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            _, writable, _ = select.select([], [fd], [], min(remaining, 0.25))
            if not writable:
                if not self.alive:
                    return "died"
                continue
            try:
                view = view[os.write(fd, view[:WRITE_CHUNK]):]
            except BlockingIOError:
                continue
            except OSError:
                return "died"
        return "ok"

    def _timed_out(self, timeout, mark, start):
        self.kill()
        return self._finish("timeout", {}, "did not finish within %g s (infinite loop "
                            "or far too slow?)" % timeout, mark, start)

    def _take_frame(self):
        """(message, value) once the buffer holds a whole frame, else None; FrameError for a
        frame over MAX_REPLY_BYTES (refused from its header) or a malformed one."""
        if len(self._buffer) < arrays.HEADER.size:
            return None
        head_size, npz_size = arrays.check_header(bytes(self._buffer[:arrays.HEADER.size]),
                                                  MAX_REPLY_BYTES)
        end = arrays.HEADER.size + head_size + npz_size
        if len(self._buffer) < end:
            return None
        # The decoded arrays view this buffer (no copy), so it is handed over, not trimmed.
        received, self._buffer = self._buffer, self._buffer[end:]
        body = memoryview(received)
        return arrays.decode(body[arrays.HEADER.size:arrays.HEADER.size + head_size],
                             body[arrays.HEADER.size + head_size:end], MAX_REPLY_BYTES)

    def _reply(self, frame, mark, start):
        data, value = frame
        if data.get("ok"):
            return self._finish("ok", data, "", mark, start, value)
        return self._finish("error", data, str(data.get("error", "failed"))[:2000], mark, start)

    def _finish(self, status, data, message, mark, start, value=None):
        time.sleep(0) if status == "ok" else self._settle_output()
        return Reply(status=status, data=data, message=message, output=self._output_since(mark),
                     seconds=time.monotonic() - start, value=value)

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
