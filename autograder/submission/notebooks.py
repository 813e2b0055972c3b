"""Validate the submitted notebooks with nbformat (they carry no points by themselves).

The notebooks are untrusted input: they are parsed only in a limited child process
(autograder.submission.parse_limited), never in the grader's, and one over the
spec's settings.notebook_limit_mb is refused unread.
"""
from functools import lru_cache

from autograder.submission.parse_limited import ParseLimits, check_notebooks

NOTEBOOK_LIMIT_KEY = "notebook_limit_mb"


def notebook_problems(paths, notebook_limit_mb=None):
    """{path: '' if a valid notebook, else a one-line reason for the student}."""
    limit = notebook_limit_mb if notebook_limit_mb is not None else kit_notebook_limit_mb()
    return check_notebooks(list(paths), ParseLimits(file_mb=float(limit)))


def notebook_problem(path, notebook_limit_mb=None):
    """'' if path is a valid notebook, else a one-line reason for the student."""
    return notebook_problems([path], notebook_limit_mb)[path]


def notebook_limit_of(settings):
    """settings.notebook_limit_mb of a loaded spec (a registered field or an extra key), or None."""
    value = getattr(settings, NOTEBOOK_LIMIT_KEY, None)
    if value is None:
        value = (getattr(settings, "extras", None) or {}).get(NOTEBOOK_LIMIT_KEY)
    return value


@lru_cache(maxsize=1)
def kit_notebook_limit_mb():
    """The kit spec's limit (the grader passes its own spec's; this serves the other callers)."""
    try:
        from autograder.spec import load_spec
        value = notebook_limit_of(load_spec().settings)
    except Exception:  # no readable spec here: the dataclass default
        value = None
    return value if value is not None else ParseLimits.file_mb
