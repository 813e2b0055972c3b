"""Which command-line paths are submissions, and the id each one is graded under.

Rule: a .zip file, or a folder that directly holds a graded file (a notebook,
cnn_model.npz or nndl/), is one submission. Any other folder is a class folder:
each of its entries (folders and files, hidden names skipped) is one submission.
A single path that is itself a submission keeps the one-submission layout
(reports straight into --out); anything else grades into GRADES_DIR/<id>/.

An LMS archive (Canvas's download, Gradescope's export: autograder.lms), recognised by its
names or named by --from, is a class: one submission per student (Canvas) or per folder
(Gradescope), whose id comes from the LMS's names ('lovelaceada_101', 'submission_2169')
and whose Entry carries the LMS's record of it.
"""
import hashlib
import os
import re
from dataclasses import dataclass

from autograder import lms
from autograder.submission import SubmissionError, layout

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
    """One submission of a class: `id` names its folder under GRADES_DIR, `path` is the source;
    from an LMS archive, `lms` is its record there (results.json's extra_data.lms) and
    `trusted` the LMS's metadata for the late policy (autograder.lms.LmsSubmission)."""
    id: str
    path: str
    lms: dict = None
    trusted: dict = None


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
    """True if the command line names exactly one path and it is a submission (not an LMS
    archive)."""
    return len(paths) == 1 and is_submission(paths[0]) and lms.detect(paths[0]) is None


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


def discover(paths, lms_from=None, unpack_dir=None, say=None):
    """
    The Entry list of the class, sorted by id; ids are unique, also ignoring case.
    - lms_from: 'canvas' or 'gradescope' to read every path as that LMS's archive (default:
      recognised by its names)
    - unpack_dir: where LMS archives are unpacked (autograder.lms.open_class)
    - say: called with a line per LMS archive (its kind and what came out of it)
    Raises lms.LmsError when an archive cannot be read as its LMS's.
    """
    sources = []    # (name the id comes from, path, LmsSubmission or None)
    for path in paths:
        path = os.path.abspath(path)
        kind = lms_from or lms.detect(path)
        if kind:
            if unpack_dir is None:
                raise lms.LmsError("%s is an LMS archive: it needs a folder to unpack into"
                                   % path)
            opened = lms.open_class(path, kind, unpack_dir)
            if say:
                say(opened.summary())
            sources += [(s.name, s.path, s) for s in opened.submissions]
        elif is_submission(path):
            sources.append((os.path.basename(os.path.normpath(path)), path, None))
        else:
            sources += [(name, os.path.join(path, name), None)
                        for name in sorted(os.listdir(path)) if not name.startswith(".")]
    ids = assign_ids([name for name, _, _ in sources])
    entries = [Entry(sid, source, from_lms.identity if from_lms else None,
                     from_lms.trusted if from_lms else None)
               for sid, (_, source, from_lms) in zip(ids, sources)]
    return sorted(entries, key=lambda e: e.id)


def prior_sources(folder):
    """{prior id: path} of the entries of a prior-work folder (SubmissionError if none)."""
    from autograder.similarity.run import PRIOR_PREFIX
    if not os.path.isdir(folder):
        raise SubmissionError("prior work %s is not a folder" % folder)
    entries = discover([folder])
    if not entries:
        raise SubmissionError("prior work %s holds no submission" % folder)
    return {PRIOR_PREFIX + entry.id: entry.path for entry in entries}
