"""The warning printed when the sandbox cannot protect the grading machine's root files.

At the rlimits level, as root, student code drops to an unprivileged uid only when the
Python install is reachable by other users; otherwise it runs as root with resource limits
alone, and nothing stops it reading or writing any root-owned file.
"""
import os

from autograder.sandbox import isolation


def weak_level_warning(level=None, euid=None, python_reachable=None):
    """The warning for grading at `level` (None: the strongest available), or '' if none is due."""
    level = level or isolation.available_level()
    euid = os.geteuid() if euid is None else euid
    if level != "rlimits" or euid != 0:
        return ""
    reachable = isolation.python_reachable_by_others() if python_reachable is None \
        else python_reachable
    if reachable:
        return ("warning: the sandbox runs at the rlimits level as root: student code runs as "
                "an unprivileged user, but only file permissions and resource limits protect "
                "this machine (no namespaces). Install bubblewrap to grade strangers' code.")
    return ("warning: the sandbox runs at the rlimits level as root and cannot drop to an "
            "unprivileged user (the Python install is not reachable by other users): student "
            "code runs as root and can read and write every root-owned file on this machine. "
            "Install bubblewrap (apt-get install bubblewrap), or grade as an ordinary user.")
