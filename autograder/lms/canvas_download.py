"""Canvas's "Download Submissions" archive: whose each file is, and one submission per student.

Canvas names every uploaded file of the download (lib/content_zipper.rb in canvas-lms):

    <name>[_LATE]_<user id>_<attachment id>_<file name as uploaded>
    lovelaceada_LATE_101_5003_CNN.ipynb

<name> is the student's sortable name in lower case without spaces or punctuation (never
holding '_<digits>_'), `LATE` is there when Canvas counts the submission late (it does not
say by how much), and under anonymous grading the name and user id become
`anon_<anonymous id>`. A file uploaded again under the same name comes back with `-1`,
`-2`... before its extension (`layers-1.py`). Text entries and links
(`<name>_<user id>_text.html`) carry no attachment id and are not graded.

A student's files form one submission: the zip from collect_submission.py, or the loose
notebooks, model and nndl modules (graded as if in nndl/). When a file comes twice the
later upload (larger attachment id) is graded; when a student uploaded both a zip and loose
files, or several zips, the latest zip is graded and the submission is flagged for review.
"""
import os
import re
from dataclasses import dataclass, field

from autograder.lms.archive import copy_member, settle_times
from autograder.submission import layout

KIND = "canvas"
UPLOAD_NAME = re.compile(r"^(?:(?P<anon>(?:LATE_)?anon_[A-Za-z0-9]+)|(?P<name>.*?)(?P<late>_LATE)?"
                         r"_(?P<user>\d+))_(?P<attachment>\d+)_(?P<original>.+)$", re.S)
TEXT_ENTRY = re.compile(r"^.+_(?:\d+|anon_[A-Za-z0-9]+)_(?:text|link)\.html$", re.S)
REUPLOAD_SUFFIX = re.compile(r"^(?P<stem>.+)-\d+(?P<ext>\.[A-Za-z0-9]+)$", re.S)
IGNORED_TOPS = layout.IGNORED_TOP_NAMES


@dataclass(frozen=True)
class Upload:
    """One file of the download, as Canvas named it."""
    member: object              # autograder.lms.archive.Member
    key: str                    # the student: '<user id>' or 'anon_<id>'
    name: str                   # Canvas's lower-case name ('' when anonymous)
    user_id: str                # '' when anonymous
    anonymous_id: str           # '' unless anonymous
    late: bool
    attachment_id: int
    original: str               # the file name the student uploaded (as Canvas shows it)


@dataclass
class Student:
    """One student's submission: the files to grade and what was set aside."""
    key: str
    name: str
    user_id: str
    anonymous_id: str
    late: bool
    uploads: list = field(default_factory=list)
    graded: dict = field(default_factory=dict)     # graded name -> Upload ('submission.zip')
    notes: list = field(default_factory=list)
    review: str = ""

    @property
    def submission_name(self):
        """The name the class run derives the student's id from: '<name>_<user id>'."""
        if self.anonymous_id:
            return "anon_" + self.anonymous_id
        return "%s_%s" % (self.name, self.user_id) if self.name else self.user_id

    @property
    def is_zip(self):
        return list(self.graded) == [ZIP_NAME]

    def identity(self):
        """What results.json keeps under extra_data.lms (JSON-native, compared on reruns)."""
        record = {"kind": KIND, "canvas_id": self.user_id or None, "name": self.name,
                  "late_marker": self.late,
                  "files": sorted(upload.original for upload in self.graded.values()),
                  "notes": list(self.notes)}
        if self.anonymous_id:
            record["anonymous_id"] = self.anonymous_id
        if self.review:
            record["review"] = self.review
        return record


ZIP_NAME = "submission.zip"


def parse_name(filename):
    """An Upload's fields (without member) from a file name, or None if Canvas did not name it."""
    match = UPLOAD_NAME.match(filename)
    if not match:
        return None
    if match.group("anon"):
        anon = match.group("anon")
        late, anon = anon.startswith("LATE_"), anon[len("LATE_"):] if anon.startswith(
            "LATE_") else anon
        anonymous_id = anon[len("anon_"):]
        return dict(key=anon, name="", user_id="", anonymous_id=anonymous_id, late=late,
                    attachment_id=int(match.group("attachment")),
                    original=match.group("original"))
    return dict(key=match.group("user"), name=match.group("name"), user_id=match.group("user"),
                anonymous_id="", late=bool(match.group("late")),
                attachment_id=int(match.group("attachment")), original=match.group("original"))


def graded_name(original):
    """The name a file is graded under ('layers-1.py' -> 'layers.py'), '.zip' files as
    ZIP_NAME, or None when the grader does not read it."""
    for name in (original, _without_reupload_suffix(original)):
        if name is None:
            continue
        if name.lower().endswith(".zip"):
            return ZIP_NAME
        if layout.wanted(name) is not None or layout.flat_upload([name]):
            return name
    return None


def _without_reupload_suffix(original):
    match = REUPLOAD_SUFFIX.match(original)
    return match.group("stem") + match.group("ext") if match else None


def _top_names(members):
    """{file name: member} of the files at the download's top (or under its one top folder,
    when it was unpacked into one)."""
    visible = [m for m in members if m.name.split("/")[0] not in IGNORED_TOPS
               and not m.name.split("/")[-1].startswith(".")]
    top = {m.name: m for m in visible if "/" not in m.name}
    if top:
        return top
    folders = {m.name.split("/")[0] for m in visible}
    if len(folders) == 1:
        return {m.name.split("/", 1)[1]: m for m in visible if m.name.count("/") == 1}
    return {}


def looks_like(members):
    """True if every visible file at the top is named as Canvas names downloads (at least one
    of them an upload): how a Canvas archive is recognised without --from."""
    names = _top_names(members)
    uploads = [n for n in names if parse_name(n)]
    return bool(uploads) and all(parse_name(n) or TEXT_ENTRY.match(n) for n in names)


def students(members):
    """(list of Student sorted by key, archive-level notes)."""
    by_key, notes = {}, []
    for filename, member in sorted(_top_names(members).items()):
        fields = parse_name(filename)
        if fields is None:
            notes.append("ignored %r: %s" % (filename, "a text entry or link, not a file" if
                                              TEXT_ENTRY.match(filename) else
                                              "not named as Canvas names a download"))
            continue
        upload = Upload(member=member, **fields)
        student = by_key.setdefault(upload.key, Student(upload.key, upload.name, upload.user_id,
                                                        upload.anonymous_id, upload.late))
        student.late = student.late or upload.late
        student.uploads.append(upload)
    for student in by_key.values():
        choose_files(student)
    return [by_key[key] for key in sorted(by_key)], notes


def choose_files(student):
    """Fill student.graded, .notes and .review from its uploads (see the module docstring)."""
    latest = {}
    for upload in sorted(student.uploads, key=lambda u: u.attachment_id):
        name = graded_name(upload.original)
        if name is None:
            student.notes.append("ignored %s: not a file the grader reads" % upload.original)
            continue
        if name in latest and name != ZIP_NAME:
            student.notes.append("%s and %s are both %s: graded the later upload, %s"
                                 % (latest[name].original, upload.original, name,
                                    upload.original))
        elif name in latest:
            student.review = "several zips uploaded (%s, %s): graded the latest, %s" % (
                latest[name].original, upload.original, upload.original)
            student.notes.append(student.review)
        latest[name] = upload
    if ZIP_NAME in latest and len(latest) > 1:
        loose = sorted(u.original for n, u in latest.items() if n != ZIP_NAME)
        student.review = "uploaded a zip (%s) and loose files (%s): graded the zip" % (
            latest[ZIP_NAME].original, ", ".join(loose))
        student.notes.append(student.review)
        latest = {ZIP_NAME: latest[ZIP_NAME]}
    student.graded = latest


def materialise(archive, student, folder):
    """
    Copy the student's graded files out of the archive: folder + '.zip' for a zip, else
    folder/ holding the files under their graded names. Returns the submission path, or
    None when nothing could be copied (the reasons are in student.notes).
    """
    if student.is_zip:
        upload = student.graded[ZIP_NAME]
        target = folder + ".zip"
        problem = copy_member(archive, upload.member, target, layout.MAX_TOTAL_BYTES)
        if problem:
            student.notes.append("refused %s: %s" % (upload.original, problem))
            return None
        return target
    for name, upload in sorted(student.graded.items()):
        cap = layout.wanted(name) or layout.MAX_SOURCE_BYTES
        problem = copy_member(archive, upload.member, os.path.join(folder, name), cap)
        if problem:
            student.notes.append("refused %s: %s" % (upload.original, problem))
    os.makedirs(folder, exist_ok=True)   # an empty submission is graded (and scores 0)
    settle_times(folder)
    return folder
