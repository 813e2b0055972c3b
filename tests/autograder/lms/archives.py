"""LMS archives built as the LMS documents them, from reference submissions.

Canvas's "Download Submissions" zip (canvas-lms lib/content_zipper.rb): every uploaded file
at the top, named <name>[_LATE]_<user id>_<attachment id>_<file name>, the name being the
sortable name in lower case without punctuation; text entries as <name>_<user id>_text.html.
Canvas's gradebook export (lib/gradebook_exporter.rb): Student, ID, SIS User ID, SIS Login
ID, Section, "Name (id)" per assignment, totals; a "Manual Posting" row when an assignment
posts manually, then "    Points Possible", then the students by sortable name, the test
student last.
Gradescope's "Export Submissions" zip: one top folder holding submission_metadata.yml
(Ruby's YAML) and a submission_<id>/ folder per submission.
"""
import io
import zipfile
from pathlib import Path

from tests.autograder.grade import helpers

FAST_ITEMS = "conv_layers.conv_forward_naive.forward_secret,conv_layers.max_pool_forward_naive.*"
BROKEN = "raise ImportError('broken on purpose')\n"


def submission_files(folder):
    """{relative path: bytes} of a reference submission built in folder."""
    root = helpers.reference_submission(folder)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def zipped(files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def canvas_name(name, user_id, attachment_id, original, late=False):
    return "%s%s_%d_%d_%s" % (name, "_LATE" if late else "", user_id, attachment_id, original)


def canvas_download(path, work):
    """
    The class of the Canvas round trip, as Canvas's download zip at `path`:
    - Ada Lovelace (101): loose files, nndl modules without their folder; conv_layers.py
      uploaded twice, the first broken, the second named conv_layers-1.py by Canvas;
    - Bob Babbage (102), marked LATE: the zip from collect_submission.py;
    - Grace Hopper (103): a text entry only (no file to grade);
    - Dee Dropped (105): a zip, but no longer in the gradebook.
    Alan Turing (104) has nothing in the download.
    """
    reference = submission_files(Path(work) / "reference")
    members, attachment = {}, 5000
    for relative, data in reference.items():
        attachment += 1
        original = relative.split("/")[-1]
        if original == "conv_layers.py":
            members[canvas_name("lovelaceada", 101, attachment, original)] = BROKEN.encode()
            attachment += 1
            original = "conv_layers-1.py"
        members[canvas_name("lovelaceada", 101, attachment, original)] = data
    members[canvas_name("babbagebob", 102, 6001, "cnn_submission.zip", late=True)] = \
        zipped(reference)
    members["hoppergrace_103_text.html"] = b"<p>my answer is in the text box</p>"
    members[canvas_name("droppeddee", 105, 7001, "cnn_submission.zip")] = zipped(reference)
    Path(path).write_bytes(zipped(members))
    return path


CANVAS_GRADEBOOK = (
    'Student,ID,SIS User ID,SIS Login ID,Section,CNN homework (555),Quiz 1 (556),'
    'Current Score,Unposted Current Score,Final Score,Unposted Final Score\n'
    ',,,,,Manual Posting,,,,,\n'
    '    Points Possible,,,,,100.00,10.00,(read only),(read only),(read only),(read only)\n'
    '"Babbage, Bob",102,S102,bob,Section A,,8.00,80.00,80.00,8.00,8.00\n'
    '"Hopper, Grace",103,S103,grace,Section A,,9.00,90.00,90.00,9.00,9.00\n'
    '"Lovelace, Ada",101,S101,ada,Section B,,10.00,100.00,100.00,10.00,10.00\n'
    '"Turing, Alan",104,S104,alan,Section B,,7.00,70.00,70.00,7.00,7.00\n'
    '"Student, Test",999,,6f2a1b,Section A,,,,,,\n')


GRADESCOPE_METADATA = """---
submission_1001:
  :submitters:
  - :name: Alice Liddell
    :sid: 's1'
    :email: alice@uni.edu
  :created_at: 2026-12-11 20:00:00.123456000 -08:00
  :score: 0.0
  :status: processed
  :results:
    score: 0.0
    tests: []
    output: |-
      a student's output, quoting the layout:
      :submitters:
      - :name: Mallory
    extra_data:
  :history: []
submission_1002:
  :submitters:
  - :name: Bob Babbage
    :sid: 's2'
    :email: bob@uni.edu
  - :name: "Carol O'Neil"
    :sid: 's3'
    :email: carol@uni.edu
  :created_at: 2026-12-13 09:00:00.000000000 Z
  :score: 0.0
  :status: processed
  :results:
    score: 0.0
  :history:
  - :submitters: []
    :created_at: 2026-12-01 00:00:00.000000000 Z
    :score: 0.0
    :id: 999
submission_1003:
  :submitters:
  - :name: Dave Delay
    :sid: 's4'
    :email: dave@uni.edu
  :created_at: 2026-12-13 06:00:00.000000000 Z
  :score: 0.0
  :status: processed
  :history: []
"""


def gradescope_export(path, work, metadata=GRADESCOPE_METADATA):
    """
    Gradescope's export zip at `path`: Alice on time (an nndl/ folder, and a
    submission_metadata.json of her own claiming another time), Bob and Carol as a group
    two days late (one uploaded zip), Dave a day late (with an extension in the test).
    """
    reference = submission_files(Path(work) / "reference")
    top = "assignment_777_export/"
    members = {top + "submission_metadata.yml": metadata.encode()}
    for relative, data in reference.items():
        members[top + "submission_1001/" + relative] = data
        members[top + "submission_1003/" + relative] = data
    members[top + "submission_1001/submission_metadata.json"] = \
        b'{"created_at": "2026-12-01T00:00:00Z"}'
    members[top + "submission_1002/cnn_submission.zip"] = zipped(reference)
    Path(path).write_bytes(zipped(members))
    return path
