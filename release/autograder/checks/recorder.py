"""Run student code for one case and record what happened as an observation.

    rec = Recorder("conv_backward_naive")
    with rec.student("conv_forward_naive"):          # stdout captured, exceptions recorded
        out = f(x)
    rec.output("out", out)
    obs = rec.finish()

Inside `student(...)` an exception ends the block: it is recorded under
"error" (see observation.py) and `rec.failed` becomes true; the caller checks
`rec.failed` and stops. The global numpy random state is saved and restored
around the whole case, so observing in a notebook kernel changes nothing there.
"""
import contextlib
import json

import numpy as np

from autograder.checks.calls import StudentImportError, as_output_array
from autograder.checks.observation import (STDOUT_HEAD, outside_student_code, short_traceback,
                                           student_frame, text)


class _CappedText:
    """A write-only text stream that counts everything but keeps only the head."""

    def __init__(self, keep):
        self.keep = keep
        self.head = []
        self.kept = 0
        self.chars = 0

    def write(self, s):
        s = str(s)
        self.chars += len(s)
        if self.kept < self.keep:
            piece = s[:self.keep - self.kept]
            self.head.append(piece)
            self.kept += len(piece)
        return len(s)

    def flush(self):
        pass

    def isatty(self):
        return False


class Recorder:
    def __init__(self, seed=0):
        self.obs = {}
        self.failed = False
        self.mutated = []
        self._stdout = _CappedText(STDOUT_HEAD)
        self._random_state = np.random.get_state()
        np.random.seed(seed)  # student code may draw random numbers (e.g. __init__)

    @contextlib.contextmanager
    def student(self, where):
        """Run student code: capture stdout/stderr; record an exception instead of raising it."""
        if self.failed:
            raise RuntimeError("Recorder.student used after a failure")
        try:
            with contextlib.redirect_stdout(self._stdout), contextlib.redirect_stderr(self._stdout):
                with np.errstate(all="ignore"):
                    yield
        except KeyboardInterrupt:
            raise
        except StudentImportError as exc:
            self.fail("StudentImportError", str(exc), where, "")
        except BaseException as exc:  # noqa: BLE001 - SystemExit from student code included
            self.fail(type(exc).__name__, _message(exc), where, short_traceback(exc),
                      student_frame(exc), outside_student_code(exc, where))

    @contextlib.contextmanager
    def quiet(self):
        """Run student code for diagnosis only: output discarded, exceptions propagate."""
        sink = _CappedText(0)
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            with np.errstate(all="ignore"):
                yield

    def fail(self, error_type, message, where, trace="", at="", context=""):
        """Record the failure (context: where it came from in words, when no frame of the
        student's files shows it; see observation.outside_student_code)."""
        self.failed = True
        info = {"type": error_type, "message": message, "where": where, "traceback": trace,
                "at": at}
        if context:
            info["context"] = context
        self.obs["error"] = text(json.dumps(info))

    def output(self, key, value):
        """Record one returned value; a non-array value is recorded by its type name."""
        array = as_output_array(value)
        if array is not None:
            self.obs[key] = array
        else:
            self.obs["diag.type." + key] = text(type(value).__name__)

    def put(self, key, array):
        self.obs[key] = np.asarray(array)

    def snapshot(self, arrays):
        """Copies of the given {name: array} to compare with later (no-writes check)."""
        return {name: np.array(value, copy=True) for name, value in arrays.items()
                if isinstance(value, np.ndarray)}

    def check_unchanged(self, where, arrays, snapshot):
        """Note every array in `arrays` that differs from its snapshot."""
        for name, before in snapshot.items():
            after = arrays.get(name)
            if not isinstance(after, np.ndarray) or after.shape != before.shape or \
                    not np.array_equal(after, before, equal_nan=True):
                entry = "%s: %s" % (where, name)
                if entry not in self.mutated:
                    self.mutated.append(entry)

    def call_watched(self, where, run, watched):
        """run() as student code (see student()), noting every array of `watched` it wrote into;
        run's result, or None when it raised (self.failed is then set)."""
        before = self.snapshot(watched)
        result = None
        with self.student(where):
            result = run()
        if not self.failed:
            self.check_unchanged(where, watched, before)
        return result

    def finish(self):
        np.random.set_state(self._random_state)
        self.obs["stdout.chars"] = np.array(self._stdout.chars, dtype=np.int64)
        self.obs["stdout.head"] = text("".join(self._stdout.head))
        if self.mutated:
            self.obs["mutated"] = text(json.dumps(self.mutated))
        return self.obs


def _message(exc):
    message = str(exc)
    if isinstance(exc, SystemExit):
        message = "the code called exit(%s)" % message
    if len(message) > 500:
        message = message[:500] + "..."
    return message

