"""A class as the LMS hands it to the course staff: Canvas's "Download Submissions" archive
or Gradescope's "Export Submissions" archive (a .zip as downloaded, or its unpacked folder).

    kind = detect(path)                                  # 'canvas', 'gradescope' or None
    opened = open_class(path, kind, unpack_dir)          # LmsClass
    for submission in opened.submissions: ...            # name, path, identity, trusted

The archive's names and metadata are the LMS's: whose each submission is, whether Canvas
marked it late, when Gradescope received it. Its files are the students': they are listed
and copied with the stager's guards (autograder/lms/archive.py) into
unpack_dir/<kind>-<digest of the archive's path>/, once (a manifest records the archive's
listing; a changed archive is unpacked again, with the same file times, so unchanged
submissions keep their fingerprints and a rerun resumes). An unpacked Gradescope export is
graded in place. Each submission is then staged and graded like any other.

- canvas_download: Canvas's file names, one submission per student;
- gradescope_export: Gradescope's submission_metadata.yml, folders to students and times;
- archive: the guarded listing and copying.
"""
import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field

from autograder.lms import canvas_download, gradescope_export
from autograder.lms.archive import Archive, ArchiveError

KINDS = (canvas_download.KIND, gradescope_export.KIND)
TITLES = {canvas_download.KIND: "Canvas download archive",
          gradescope_export.KIND: "Gradescope export"}
MANIFEST = "manifest.json"


class LmsError(ValueError):
    """The archive cannot be read as the LMS's (said in one line, for a usage error)."""


@dataclass(frozen=True)
class LmsSubmission:
    """
    - name: what the class run derives the submission id from ('lovelaceada_101')
    - path: the submission to stage (a folder or a .zip)
    - identity: results.json's extra_data.lms (kind, the LMS's ids, names, late marker...)
    - trusted: the LMS's metadata for the late policy, shaped as Gradescope's
      submission_metadata.json (created_at, users), or None
    """
    name: str
    path: str
    identity: dict
    trusted: dict = None


@dataclass
class LmsClass:
    kind: str
    source: str
    submissions: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def summary(self):
        """The run's line about the archive: its kind and what came out of it."""
        late = sum(1 for s in self.submissions if s.identity.get("late_marker"))
        timed = sum(1 for s in self.submissions if (s.trusted or {}).get("created_at"))
        review = sum(1 for s in self.submissions if s.identity.get("review"))
        parts = ["%d submission(s)" % len(self.submissions)]
        if self.kind == canvas_download.KIND:
            parts.append("%d marked late by Canvas" % late)
        else:
            parts.append("%d with Gradescope's submission time" % timed)
        if review:
            parts.append("%d to review" % review)
        if self.notes:
            parts.append("%d file(s) or entries set aside" % len(self.notes))
        return "%s %s: %s" % (TITLES[self.kind], os.path.basename(self.source), ", ".join(parts))


def detect(path):
    """The kind of LMS archive at path ('canvas', 'gradescope'), or None for anything else
    (a submission, a folder of submissions). Only names are looked at."""
    try:
        if os.path.isdir(path):
            names = _folder_names(path)
        elif os.path.isfile(path) and path.lower().endswith(".zip"):
            with Archive(path) as archive:
                names = [m.name for m in archive.members]
        else:
            return None
    except (OSError, ArchiveError):
        return None
    members = [_Named(name) for name in names]
    if gradescope_export.looks_like(members):
        return gradescope_export.KIND
    if canvas_download.looks_like(members):
        return canvas_download.KIND
    return None


@dataclass(frozen=True)
class _Named:
    name: str


def _folder_names(path):
    """The file names at a folder's top and, when it holds one visible folder, in that one."""
    entries = [n for n in os.listdir(path) if not n.startswith(".")]
    names = [n for n in entries if os.path.isfile(os.path.join(path, n))]
    folders = [n for n in entries if os.path.isdir(os.path.join(path, n))
               and n not in canvas_download.IGNORED_TOPS]
    if gradescope_export.METADATA_FILE not in names and len(folders) == 1:
        inner = os.path.join(path, folders[0])
        names += [folders[0] + "/" + n for n in os.listdir(inner)
                  if os.path.isfile(os.path.join(inner, n))]
    return names


def open_class(path, kind, unpack_dir):
    """The LmsClass of the archive at path read as `kind`; LmsError when it cannot be."""
    if kind not in KINDS:
        raise LmsError("unknown LMS %r (known: %s)" % (kind, ", ".join(KINDS)))
    path = os.path.abspath(path)
    target = os.path.join(unpack_dir, "%s-%s" % (kind, hashlib.sha256(
        os.fsencode(path)).hexdigest()[:10]))
    try:
        with Archive(path) as archive:
            digest = _listing_digest(archive)
            reused = _reuse(target, path, digest)
            if reused is not None:
                return reused
            shutil.rmtree(target, ignore_errors=True)
            opened = _open(archive, kind, path, target)
    except ArchiveError as error:
        raise LmsError(str(error))
    except gradescope_export.MetadataError as error:
        raise LmsError(str(error))
    if not opened.submissions:
        raise LmsError("%s holds no submission %s" % (path, (
            "named as Canvas names its downloads (<name>_<user id>_<attachment id>_<file>)"
            if kind == canvas_download.KIND else "folder (submission_<id>/)")))
    _write_manifest(target, path, digest, opened)
    return opened


def _open(archive, kind, path, target):
    opened = LmsClass(kind, path, notes=list(archive.notes))
    if kind == canvas_download.KIND:
        students, notes = canvas_download.students(archive.members)
        opened.notes += notes
        for student in students:
            where = canvas_download.materialise(archive, student,
                                                os.path.join(target, student.key))
            if where is None:
                opened.notes.append("%s: nothing could be copied" % student.submission_name)
                continue
            trusted = {"users": [{"sid": student.user_id or student.anonymous_id,
                                  "name": student.name}]}
            opened.submissions.append(LmsSubmission(student.submission_name, where,
                                                    student.identity(), trusted))
        return opened
    found, notes, top = gradescope_export.submissions(archive)
    opened.notes += notes
    for submission in found:
        if os.path.isdir(path):    # graded in place
            folder = os.path.join(path, *(top + submission.folder).split("/"))
        else:
            folder = gradescope_export.materialise(archive, top, submission,
                                                   os.path.join(target, submission.folder))
        opened.submissions.append(LmsSubmission(submission.folder, submission_path(folder),
                                                submission.identity(), submission.trusted()))
    return opened


def _listing_digest(archive):
    listing = [(m.name, m.size, m.mtime) for m in archive.members]
    return hashlib.sha256(json.dumps(listing).encode()).hexdigest()


def _reuse(target, path, digest):
    """The LmsClass recorded by an earlier run for this very archive, or None."""
    try:
        with open(os.path.join(target, MANIFEST)) as f:
            manifest = json.load(f)
        if manifest.get("source") != path or manifest.get("digest") != digest:
            return None
        opened = LmsClass(manifest["kind"], path, notes=list(manifest["notes"]))
        opened.submissions = [LmsSubmission(**s) for s in manifest["submissions"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all(os.path.lexists(s.path) for s in opened.submissions):
        return None
    return opened


def _write_manifest(target, path, digest, opened):
    os.makedirs(target, exist_ok=True)
    manifest = {"source": path, "digest": digest, "kind": opened.kind, "notes": opened.notes,
                "submissions": [asdict(s) for s in opened.submissions]}
    from autograder.files import atomic
    atomic.write_text(os.path.join(target, MANIFEST), json.dumps(manifest, indent=1) + "\n")




def with_late_review(identity, late_record):
    """The identity, flagged for review when Canvas marked the submission late but the late
    policy (on) had no time to apply: Canvas says late, not by how much."""
    if not identity or not identity.get("late_marker") or not late_record or \
            not late_record.get("unknown"):
        return identity
    reason = ("Canvas marked it late but gives no time: no late penalty was applied (add its "
              "time to the [late] submission_times CSV, or let Canvas's late policy apply)")
    review = "; ".join(r for r in (identity.get("review"), reason) if r)
    return dict(identity, review=review)


GRADEBOOK_COLUMNS = ("lms", "lms_student_id", "lms_student", "lms_late_marker")


def gradebook_cells(identity):
    """gradebook.csv's GRADEBOOK_COLUMNS for a submission's extra_data.lms (blank: none)."""
    if not identity:
        return [""] * len(GRADEBOOK_COLUMNS)
    if identity.get("kind") == canvas_download.KIND:
        who = identity.get("canvas_id") or identity.get("anonymous_id") or ""
        return [identity["kind"], who, identity.get("name") or "",
                "LATE" if identity.get("late_marker") else ""]
    students = identity.get("students") or []
    return [identity.get("kind") or "", "; ".join(s.get("sid", "") for s in students),
            "; ".join(s.get("name", "") for s in students), ""]


def submission_path(folder):
    """The submission folder, or the one .zip a student uploaded into it."""
    try:
        names = [n for n in os.listdir(folder) if not n.startswith(".")]
    except OSError:
        return folder
    zips = [n for n in names if n.lower().endswith(".zip")]
    if len(names) == 1 and len(zips) == 1:
        return os.path.join(folder, zips[0])
    return folder
