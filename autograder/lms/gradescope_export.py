"""Gradescope's "Export Submissions" archive: one folder per submission and the metadata
file that says whose each one is and when Gradescope received it.

    assignment_123_export/                 (the zip's one top folder, or the unpacked folder)
        submission_metadata.yml
        submission_216975964/   ...the files as the student uploaded them
        submission_216996427/   ...

submission_metadata.yml is written by Gradescope (Ruby's YAML, symbol keys with a colon):

    submission_216975964:
      :submitters:
      - :name: Alice Sun
        :sid: '06758767'
        :email: alice@uni.edu
      :created_at: 2023-12-02 02:52:07.938335000 Z
      :score: 0.0
      :status: processed
      :results: {...}        (the autograder's last results: skipped unread)
      :history: [...]        (earlier submissions: skipped unread)

Only `:submitters:` and `:created_at:` are used: the folder's students (whom extensions
may name) and its time, which feeds the late policy as Gradescope's own
submission_metadata.json does on Gradescope. The file is parsed with PyYAML's safe loader
(plain data, no objects), after the `:results:` and `:history:` subtrees are cut out by
their indentation (they are most of the file, and hold autograder output), with caps on the
file's size and on what is left to parse.
"""
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from autograder.lms.archive import copy_member, settle_times
from autograder.submission import layout

KIND = "gradescope"
METADATA_FILE = "submission_metadata.yml"
FOLDER = re.compile(r"^submission_(?P<id>\d+)$")
METADATA_BYTES = 256 * 1024 * 1024     # the whole file, results of every submission included
PARSED_BYTES = 16 * 1024 * 1024        # what is left once results and history are cut out
SKIPPED_KEYS = (":results:", ":history:")
# What is copied out of a zipped export (a submission folder is graded as the student
# uploaded it): the files the grader may read, and an upload's own metadata file, which is
# never read but noticed (autograder.policy.late.upload_carries_metadata).
UPLOAD_METADATA = "submission_metadata.json"
UPLOAD_DEPTH = 3


class MetadataError(ValueError):
    """The export's metadata file cannot be used."""


@dataclass
class Submission:
    """One folder of the export and whose it is (from the metadata)."""
    folder: str                                     # 'submission_216975964'
    submission_id: str                              # '216975964'
    students: list = field(default_factory=list)    # [{'name', 'sid', 'email'}]
    created_at: str = None                          # ISO 8601 with offset, or None
    notes: list = field(default_factory=list)

    def identity(self):
        """What results.json keeps under extra_data.lms (JSON-native, compared on reruns)."""
        return {"kind": KIND, "submission_id": self.submission_id,
                "students": [dict(s) for s in self.students], "submitted_at": self.created_at,
                "notes": list(self.notes)}

    def trusted(self):
        """The metadata in the shape of Gradescope's submission_metadata.json, for the late
        policy (autograder.policy.late.late_record's `trusted`)."""
        return {"id": self.submission_id, "created_at": self.created_at,
                "users": [dict(s) for s in self.students]}


def metadata_member(members):
    """The metadata file's Member (at the top or under the one top folder), or None."""
    for member in members:
        parts = member.name.split("/")
        if parts[-1] == METADATA_FILE and len(parts) <= 2 and \
                parts[0] not in layout.IGNORED_TOP_NAMES:
            return member
    return None


def looks_like(members):
    return metadata_member(members) is not None


def without_subtrees(text, keys=SKIPPED_KEYS):
    """The YAML text without the blocks under `keys`: a key line and the lines after it that
    are blank, indented deeper, or sequence items at its own indentation (Ruby writes a
    list under a key at the key's indentation)."""
    out, skip_indent = [], None
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if skip_indent is not None:
            if not stripped.strip() or indent > skip_indent or (
                    indent == skip_indent and (stripped == "-" or stripped.startswith("- "))):
                continue
            skip_indent = None
        if any(stripped.startswith(key) for key in keys):
            skip_indent = indent
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def parse_metadata(data):
    """{folder name: Submission} from the metadata file's bytes; MetadataError when unusable."""
    import yaml     # PyYAML: a dependency of the kit (setup.py), nbgrader's too
    if len(data) > METADATA_BYTES:
        raise MetadataError("%s is larger than %d MB" % (METADATA_FILE, METADATA_BYTES // 2 ** 20))
    try:
        text = without_subtrees(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise MetadataError("%s is not UTF-8 text" % METADATA_FILE)
    if len(text) > PARSED_BYTES:
        raise MetadataError("%s holds over %d MB besides results and history"
                            % (METADATA_FILE, PARSED_BYTES // 2 ** 20))
    try:
        loaded = yaml.load(text, Loader=yaml.SafeLoader)   # pure Python: deep nesting is a
    except (yaml.YAMLError, RecursionError, ValueError) as error:  # RecursionError, not a crash
        raise MetadataError("%s cannot be read as YAML (%s)" % (
            METADATA_FILE, str(error).splitlines()[0] if str(error) else type(error).__name__))
    if not isinstance(loaded, dict):
        raise MetadataError("%s is not a mapping of submission folders" % METADATA_FILE)
    submissions = {}
    for folder, entry in loaded.items():
        match = FOLDER.match(str(folder))
        if not match or not isinstance(entry, dict):
            continue
        submission = Submission(str(folder), match.group("id"))
        for person in entry.get(":submitters") or []:
            if isinstance(person, dict):
                submission.students.append({key: str(person[":" + key]) for key in
                                            ("name", "sid", "email")
                                            if person.get(":" + key) not in (None, "")})
        submission.created_at = _time(entry.get(":created_at"))
        if entry.get(":created_at") is not None and submission.created_at is None:
            submission.notes.append("the metadata's time %r has no UTC offset: not used"
                                    % str(entry.get(":created_at")))
        submissions[submission.folder] = submission
    return submissions


def _time(value):
    """ISO 8601 with an offset from the metadata's time (YAML gives a datetime), or None."""
    from autograder.policy import late
    if isinstance(value, datetime):
        if value.tzinfo is None:    # PyYAML gives UTC times ('Z') as naive before 5.x
            return None
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, str):
        try:
            return late.parse_time(value.replace(" Z", "Z")).isoformat()
        except late.LateError:
            return None
    return None


def submissions(archive):
    """(list of Submission for the export's folders, sorted, archive-level notes)."""
    member = metadata_member(archive.members)
    if member is None:
        raise MetadataError("no %s at the top of %s" % (METADATA_FILE, archive.path))
    with archive.open(member) as f:
        metadata = parse_metadata(f.read(METADATA_BYTES + 1))
    top = member.name[:-len(METADATA_FILE)]
    folders = sorted({m.name[len(top):].split("/")[0] for m in archive.members
                      if m.name.startswith(top) and m.name[len(top):].count("/") >= 1
                      and FOLDER.match(m.name[len(top):].split("/")[0])})
    notes = []
    found = []
    for folder in folders:
        submission = metadata.get(folder)
        if submission is None:
            submission = Submission(folder, FOLDER.match(folder).group("id"))
            submission.notes.append("not in %s: no students and no time" % METADATA_FILE)
        found.append(submission)
    for folder in sorted(set(metadata) - set(folders)):
        notes.append("%s is in %s but the export has no such folder (a submission without "
                     "files?)" % (folder, METADATA_FILE))
    return found, notes, top


def upload_cap(relative):
    """The cap for a file of a submission folder copied out of a zipped export, or None."""
    parts = relative.split("/")
    name = parts[-1]
    if len(parts) > UPLOAD_DEPTH:
        return None
    if name in layout.NOTEBOOKS or name == layout.MODEL_FILE:
        return layout.wanted(name)
    if name.endswith(".py"):
        return layout.MAX_SOURCE_BYTES
    if name.lower().endswith(".zip") and len(parts) == 1:
        return layout.MAX_TOTAL_BYTES
    if name == UPLOAD_METADATA:
        return 1024 * 1024
    return None


def materialise(archive, top, submission, folder):
    """Copy a zipped export's submission folder (the files upload_cap allows, at most
    layout.MAX_TOTAL_BYTES in all) into `folder`; returns folder."""
    prefix = top + submission.folder + "/"
    used = 0
    for member in archive.members:
        if not member.name.startswith(prefix):
            continue
        relative = member.name[len(prefix):]
        cap = upload_cap(relative)
        if cap is None:
            continue
        problem = copy_member(archive, member, os.path.join(folder, *relative.split("/")),
                              min(cap, layout.MAX_TOTAL_BYTES - used))
        if problem:
            submission.notes.append("refused %s: %s" % (relative, problem))
        else:
            used += member.size
    os.makedirs(folder, exist_ok=True)
    settle_times(folder)
    return folder
