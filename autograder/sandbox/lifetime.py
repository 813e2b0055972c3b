"""Processes that die with the process that started them (Linux prctl PR_SET_PDEATHSIG).

A class run killed with SIGKILL cannot clean up; its pool workers and their
grading workers then get SIGKILL from the kernel instead of running on as orphans.
"""
import ctypes
import ctypes.util
import signal

PR_SET_PDEATHSIG = 1

try:
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
except OSError:  # not Linux / no libc: nothing to do
    _libc = None


def die_with_parent(sig=signal.SIGKILL):
    """Ask the kernel to send `sig` to the calling process when its parent thread exits."""
    if _libc is not None:
        _libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
