"""A one-line progress bar on stderr: done/total, elapsed and an ETA.

Twenty lines of our own rather than tqdm: the bar needs only a count and a
rate, and the grader's dependencies stay those of nbgrader's environment.
On a terminal the line redraws in place; elsewhere (CI logs) one line per
finished submission.
"""
import sys
import time


class Progress:
    def __init__(self, total, already=0, stream=None, width=30):
        self.total, self.done, self.already = total, already, already
        self.stream = stream or sys.stderr
        self.width = width
        self.start = time.monotonic()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def line(self, label=""):
        elapsed = time.monotonic() - self.start
        fresh = self.done - self.already
        left = self.total - self.done
        eta = "--:--" if fresh == 0 else _clock(elapsed / fresh * left)
        filled = int(self.width * self.done / max(self.total, 1))
        return "[%s%s] %d/%d  elapsed %s  ETA %s  %s" % (
            "#" * filled, "." * (self.width - filled), self.done, self.total,
            _clock(elapsed), eta, label)

    def advance(self, label=""):
        self.done += 1
        self.show(label)

    def show(self, label=""):
        text = self.line(label)
        self.stream.write(("\r" + text + "\033[K") if self.tty else text + "\n")
        self.stream.flush()

    def finish(self):
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds):
    seconds = int(round(seconds))
    return "%d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60) \
        if seconds >= 3600 else "%d:%02d" % (seconds // 60, seconds % 60)
