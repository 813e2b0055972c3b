"""The grader's environment (the spec's [environment]) against the one running here.

The spec declares the Python minor version and the numpy series the grader runs
(autograder.spec.EnvironmentPolicy: python = "3.11", numpy = "2.4"). This module
compares a process's own versions with that declaration, in the words each user
needs: the student's self-check (your versions differ from the grader's), the
grader (its own differ from the declaration), results.json (what graded), and
the release's install pins. It imports nothing of the autograder, so the checks
(which ship to students) may use it too.
"""
import platform

import numpy as np

# What each declared key is called in a sentence.
_NAMES = {"python": "Python", "numpy": "numpy"}


def running_versions():
    """{"python": "3.11.7", "numpy": "2.4.6"}: the versions of this process."""
    return {"python": platform.python_version(), "numpy": np.__version__}


def series(version):
    """The "major.minor" of a version string ("2.4.6" -> "2.4", "2.4.0rc1" -> "2.4")."""
    parts = str(version).split(".")
    minor = "".join(ch for ch in (parts[1] if len(parts) > 1 else "") if ch.isdigit()) or "0"
    return "%s.%s" % (parts[0], minor)


def differences(declared, running=None):
    """[(key, running version, declared series)] of each version (python, numpy) whose
    major.minor differs from the declaration `declared` (an EnvironmentPolicy)."""
    running = running or running_versions()
    found = []
    for key in ("python", "numpy"):
        wanted = str(getattr(declared, key))
        if series(running[key]) != wanted:
            found.append((key, running[key], wanted))
    return found


def student_warnings(declared, running=None):
    """One line per version of the student's that differs from the grader's (self-check)."""
    return ["Warning: you run %s %s, the grader runs %s %s.x: grading uses the grader's, where "
            "code that works here can fail (removed or changed functions); install %s %s.x to "
            "see what the grader sees." % (_NAMES[key], have, _NAMES[key], want, _NAMES[key], want)
            for key, have, want in differences(declared, running)]


def grader_warnings(declared, running=None):
    """One line per version of the grader's own that differs from the spec's declaration."""
    return ["warning: this grader runs %s %s, but the spec's [environment] declares %s %s "
            "(what students are told to install and the release pins): grade with %s %s.x, or "
            "change the declaration and regenerate the release" % (
                _NAMES[key], have, _NAMES[key], want, _NAMES[key], want)
            for key, have, want in differences(declared, running)]


def record(declared, running=None):
    """results.json's extra_data.environment: the grader's versions and the declaration."""
    running = dict(running or running_versions())
    mismatched = [key for key, _, _ in differences(declared, running)]
    return dict(running, declared={"python": declared.python, "numpy": declared.numpy},
                matches_declared=not mismatched)


def install_pins(declared):
    """The release's install requirements from the declaration: {"python_requires":
    "==3.11.*", "numpy": "numpy==2.4.*"} (one source of truth: the spec)."""
    return {"python_requires": "==%s.*" % declared.python,
            "numpy": "numpy==%s.*" % declared.numpy}


def grader_numpy(declared_series="", running=None):
    """The grader's numpy as a hint names it: this process's version when it belongs to the
    declared series (the grader itself), else the declared series ("2.4.x": a student's
    self-check on another numpy), else this process's version (nothing declared)."""
    version = running or np.__version__
    if not declared_series or series(version) == declared_series:
        return version
    return "%s.x" % declared_series
