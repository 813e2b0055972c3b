"""Which command-line paths are submissions, and the id each one is graded under.

Rule: a .zip file, or a folder that directly holds a graded file (a notebook,
cnn_model.npz or nndl/), is one submission. Any other folder is a class folder:
each of its entries (folders and files, hidden names skipped) is one submission.
A single path that is itself a submission keeps the one-submission layout
(reports straight into --out); anything else grades into GRADES_DIR/<id>/.
"""
import os
import re
from dataclasses import dataclass

from autograder.submission import layout

ID_CHARACTERS = re.compile(r"[^A-Za-z0-9._@+-]+")
RESERVED_IDS = ("gradebook.csv", "summary.md", "batch.json")


@dataclass(frozen=True)
class Entry:
    """One submission of a class: `id` names its folder under GRADES_DIR, `path` is the source."""
    id: str
    path: str


def is_submission(path):
    """True if path is a .zip/regular file or a folder holding a graded file at its top."""
    if not os.path.isdir(path):
        return os.path.lexists(path)
    try:
        names = os.listdir(path)
    except OSError:
        return True  # unreadable: grade it and report that
    return any(name in layout.NOTEBOOKS or name == layout.MODEL_FILE or name == layout.NNDL_DIR
               for name in names)


def single_submission(paths):
    """True if the command line names exactly one path and it is a submission."""
    return len(paths) == 1 and is_submission(paths[0])


def submission_id(path):
    """A file-system-safe id from the submission's name ('alice.zip' -> 'alice')."""
    name = os.path.basename(os.path.normpath(path))
    if name.lower().endswith(".zip"):
        name = name[:-4]
    name = ID_CHARACTERS.sub("_", name).strip("._") or "submission"
    return name if name not in RESERVED_IDS else name + "_"


def discover(paths):
    """The Entry list of the class, sorted by id; ids are unique (a clash gets '-2', '-3')."""
    sources = []
    for path in paths:
        path = os.path.abspath(path)
        if is_submission(path):
            sources.append(path)
        else:
            sources += [os.path.join(path, name) for name in sorted(os.listdir(path))
                        if not name.startswith(".")]
    entries, used = [], set()
    for source in sources:
        base = submission_id(source)
        candidate, n = base, 1
        while candidate in used:
            n += 1
            candidate = "%s-%d" % (base, n)
        used.add(candidate)
        entries.append(Entry(candidate, source))
    return sorted(entries, key=lambda e: e.id)
