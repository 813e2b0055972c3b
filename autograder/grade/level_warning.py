"""The warning printed when the sandbox cannot protect the grading machine's root files, or
cannot keep one submission from leaving data for a later one. The level's own text comes
from its class (autograder/sandbox/levels.py); the machine's keyrings warning is added here.

At the rlimits level, as root, student code drops to an unprivileged uid only when the
Python install is reachable by other users; otherwise it runs as root with resource limits
alone, and nothing stops it reading or writing any root-owned file. As an ordinary user it
runs as that user. Either way nothing is private between submissions (isolation.py,
"between_submissions"): with the uid drop the grader deletes what the uid leaves in the
shared temp folders, but not in other world-writable folders; without it, nothing.
"""
import os

from autograder.sandbox import isolation, syscall_filter


def weak_level_warning(level=None, euid=None, python_reachable=None, machine=None):
    """The warning for grading at `level` (None: the strongest available), or '' if none is due.
    machine: what os.uname() calls this machine (None: ask)."""
    level = level or isolation.available_level()
    euid = os.geteuid() if euid is None else euid
    # Each level says what it leaves exposed (levels.py).
    warnings = [isolation.level_of(level).warning(euid, python_reachable)]
    if not syscall_filter.supported(machine):
        warnings.append(
            "warning: the sandbox cannot refuse kernel keyrings on this machine (%s: its "
            "system call numbers are unknown to autograder/sandbox/syscall_filter.py): keys "
            "student code stores outlive its sandbox and can pass data to submissions graded "
            "later." % (machine or os.uname().machine))
    return "\n".join(warning for warning in warnings if warning)
