"""The warning printed when the sandbox cannot protect the grading machine's root files, or
cannot keep one submission from leaving data for a later one.

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
    warnings = [_level_warning(level, euid, python_reachable)]
    if not syscall_filter.supported(machine):
        warnings.append(
            "warning: the sandbox cannot refuse kernel keyrings on this machine (%s: its "
            "system call numbers are unknown to autograder/sandbox/syscall_filter.py): keys "
            "student code stores outlive its sandbox and can pass data to submissions graded "
            "later." % (machine or os.uname().machine))
    return "\n".join(warning for warning in warnings if warning)


def _level_warning(level, euid, python_reachable):
    if level != "rlimits":
        return ""
    if euid != 0:
        return ("warning: the sandbox runs at the rlimits level as an ordinary user: student "
                "code runs as you, so files it leaves (in /tmp, your home...) or processes it "
                "leaves running can pass data to submissions graded later. Grade strangers' "
                "code as root with bubblewrap installed.")
    reachable = isolation.python_reachable_by_others() if python_reachable is None \
        else python_reachable
    if reachable:
        return ("warning: the sandbox runs at the rlimits level as root: student code runs as "
                "an unprivileged user, but only file permissions and resource limits protect "
                "this machine (no namespaces), and files it leaves in world-writable folders "
                "other than /tmp, /var/tmp, /dev/shm and /run/lock can pass data to "
                "submissions graded later. Install bubblewrap to grade strangers' code.")
    return ("warning: the sandbox runs at the rlimits level as root and cannot drop to an "
            "unprivileged user (the Python install is not reachable by other users): student "
            "code runs as root, can read and write every root-owned file on this machine and "
            "can leave data for submissions graded later. Install bubblewrap (apt-get install "
            "bubblewrap), or grade as an ordinary user.")
