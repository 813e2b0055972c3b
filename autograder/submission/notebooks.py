"""Validate the submitted notebooks with nbformat (they carry no points by themselves)."""
import json




def notebook_problem(path):
    """'' if path is a valid notebook, else a one-line reason for the student."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    except OSError as error:
        return "cannot be read (%s)" % error.strerror
    try:
        content = json.loads(text)
    except ValueError as error:
        return "is not valid JSON (%s)" % error
    if not isinstance(content, dict) or "cells" not in content:
        return "is JSON but not a notebook (no 'cells')"
    import nbformat  # slow to import (jsonschema); only needed when a notebook is there
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several types for malformed notebooks
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return "is not a valid notebook (%s)" % first_line[:200]
    return ""
