"""Which command-line paths are submissions, and the id each one is graded under.

Rule: a .zip file, or a folder that directly holds a graded file (a notebook,
cnn_model.npz or nndl/), is one submission. Any other folder is a class folder:
each of its entries (folders and files, hidden names skipped) is one submission.
A single path that is itself a submission keeps the one-submission layout
(reports straight into --out); anything else grades into GRADES_DIR/<id>/.
"""
import hashlib
import os
import re
from dataclasses import dataclass

from autograder.submission import layout

ID_CHARACTERS = re.compile(r"[^A-Za-z0-9._@+-]+")
# The class run's own files in GRADES_DIR (lower case: compared ignoring case), and the
# kinds of file it writes there, so that a file added later cannot clash with an id either.
RESERVED_IDS = ("gradebook.csv", "summary.md", "batch.json")
RESERVED_SUFFIXES = (".csv", ".md", ".json", ".html", ".htm", ".db", ".png", ".svg", ".part",
                     ".zip")
ID_CHARS = 64
DIGEST_CHARS = 10


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


def readable_id(name):
    """The file-system-safe part of an id: letters, digits and ._@+- only, no leading dot or
    dash, at most ID_CHARS ('bob smith.zip' -> 'bob_smith')."""
    if name.lower().endswith(".zip"):
        name = name[:-4]
    name = ID_CHARACTERS.sub("_", name).lstrip(".-_").rstrip("._")[:ID_CHARS].rstrip("._")
    return name or "submission"


def name_digest(name, length=DIGEST_CHARS):
    """Hex digest of a name's bytes (undecodable bytes included): the same name, the same digest."""
    return hashlib.sha256(os.fsencode(name)).hexdigest()[:length]


def submission_id(path):
    """The id of a submission graded alone ('alice.zip' -> 'alice'); discover() settles clashes."""
    return assign_ids([os.path.basename(os.path.normpath(path))])[0]


def assign_ids(names):
    """
    Ids for submission names (any characters, any bytes), in the same order: the readable
    id when it is free; a digest of the whole name appended when it is reserved (the run's
    own files and file kinds) or when several names share it, ignoring case
    (case-insensitive disks).
    An id depends only on the names of the class, not on their order, so a rerun finds it.
    """
    readable = [readable_id(name) for name in names]
    groups = {}
    for rid in readable:
        groups[rid.lower()] = groups.get(rid.lower(), 0) + 1
    ids = [None] * len(names)
    for index in sorted(range(len(names)), key=lambda i: os.fsencode(names[i])):
        rid, length = readable[index], DIGEST_CHARS
        clash = groups[rid.lower()] > 1 or rid.lower() in RESERVED_IDS or \
            rid.lower().endswith(RESERVED_SUFFIXES)
        candidate = "%s-%s" % (rid, name_digest(names[index])) if clash else rid
        taken = {i.lower() for i in ids if i is not None}
        while candidate.lower() in taken:  # a name made to look like another's id
            length += 4
            candidate = "%s-%s" % (rid, name_digest(names[index], length))
        ids[index] = candidate
    return ids


def discover(paths):
    """The Entry list of the class, sorted by id; ids are unique, also ignoring case."""
    sources = []
    for path in paths:
        path = os.path.abspath(path)
        if is_submission(path):
            sources.append(path)
        else:
            sources += [os.path.join(path, name) for name in sorted(os.listdir(path))
                        if not name.startswith(".")]
    ids = assign_ids([os.path.basename(os.path.normpath(source)) for source in sources])
    return sorted((Entry(sid, source) for sid, source in zip(ids, sources)), key=lambda e: e.id)
