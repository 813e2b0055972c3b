"""Gradescope's export: its Ruby YAML metadata read safely and strictly, folders to students
and times, the times used by the late policy only as the export gives them."""
import zipfile
from datetime import timedelta

import pytest

from autograder import lms
from autograder.policy import late
from autograder.lms import gradescope_export
from autograder.lms.gradescope_export import MetadataError, parse_metadata
from autograder.spec import LatePolicy
from tests.autograder.lms import archives


def test_the_metadata_layout_as_gradescope_writes_it():
    found = parse_metadata(archives.GRADESCOPE_METADATA.encode())
    assert sorted(found) == ["submission_1001", "submission_1002", "submission_1003"]
    alice, group = found["submission_1001"], found["submission_1002"]
    assert alice.submission_id == "1001"
    # the time keeps its offset's instant; nanoseconds are cut to microseconds
    assert alice.created_at == "2026-12-12T04:00:00.123456+00:00"
    assert alice.students == [{"name": "Alice Liddell", "sid": "s1", "email": "alice@uni.edu"}]
    # the output under :results: quotes the layout: it is never read as a submitter
    assert "Mallory" not in repr(found)
    assert [s["name"] for s in group.students] == ["Bob Babbage", "Carol O'Neil"]
    # the earlier submission in :history: does not replace the folder's own time
    assert group.created_at == "2026-12-13T09:00:00+00:00"
    assert group.trusted() == {"id": "1002", "created_at": group.created_at,
                               "users": group.students}


def test_results_and_history_are_cut_by_indentation():
    text = ("submission_1:\n  :submitters: []\n  :results:\n    output: \"a\n      b\"\n"
            "    tests:\n    - name: x\n  :history:\n  - :id: 3\n    :score: 1\n  -\n"
            "  :created_at: 2026-01-01 00:00:00 Z\nsubmission_2:\n  :history: []\n")
    kept = gradescope_export.without_subtrees(text)
    assert kept == ("submission_1:\n  :submitters: []\n  :created_at: 2026-01-01 00:00:00 Z\n"
                    "submission_2:\n")


def test_a_time_without_an_offset_is_not_used():
    found = parse_metadata(b"submission_5:\n  :submitters: []\n"
                           b"  :created_at: 2026-12-13 09:00:00\n")
    assert found["submission_5"].created_at is None
    assert "no UTC offset" in found["submission_5"].notes[0]


@pytest.mark.parametrize("text, reason", [
    (b"submission_1: [", "cannot be read as YAML"),
    (b"!!python/object/apply:os.system ['touch /tmp/pwned']\n", "cannot be read as YAML"),
    (b"[" * 100000 + b"]" * 100000, "cannot be read as YAML"),
    (b"- just\n- a list\n", "not a mapping"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_unusable_metadata_is_refused_with_a_reason(text, reason):
    with pytest.raises(MetadataError, match=reason):
        parse_metadata(text)


def test_oversized_metadata_is_refused_unread(monkeypatch):
    monkeypatch.setattr(gradescope_export, "METADATA_BYTES", 100)
    with pytest.raises(MetadataError, match="larger than"):
        parse_metadata(b"#" * 101)


def test_export_folders_without_metadata_and_metadata_without_folders_are_said(tmp_path):
    metadata = archives.GRADESCOPE_METADATA + "submission_4040:\n  :submitters: []\n"
    export = archives.gradescope_export(tmp_path / "export.zip", tmp_path, metadata)
    with zipfile.ZipFile(export, "a") as z:
        z.writestr("assignment_777_export/submission_2000/CNN.ipynb", b"{}")
    opened = lms.open_class(str(export), "gradescope", str(tmp_path / "lms"))
    by_id = {s.name: s for s in opened.submissions}
    assert sorted(by_id) == ["submission_1001", "submission_1002", "submission_1003",
                             "submission_2000"]
    assert by_id["submission_2000"].trusted["created_at"] is None
    assert "not in submission_metadata.yml" in by_id["submission_2000"].identity["notes"][0]
    assert any("submission_4040" in note for note in opened.notes)
    # a zipped export is copied out: only what the grader may read, and the upload's own
    # metadata file (noticed, never read)
    assert by_id["submission_1002"].path.endswith("cnn_submission.zip")
    assert lms.detect(str(export)) == "gradescope"


def test_the_exports_time_and_students_feed_the_late_policy():
    policy = LatePolicy(deadline="2026-12-11T23:59:00-08:00", penalty_per_unit=0.1)
    times = late.SubmissionTimes(extensions={"carol@uni.edu": late.Extension(
        extra=timedelta(days=3))})
    group = parse_metadata(archives.GRADESCOPE_METADATA.encode())["submission_1002"]
    record = late.late_record(policy, late.SubmissionTimes(), "submission_1002", "/nowhere",
                              group.trusted())
    assert record["units"] == 2 and record["fraction"] == 0.2
    # an extension naming one of the group's students covers the group's submission only
    extended = late.late_record(policy, times, "submission_1002", "/nowhere", group.trusted())
    assert extended["extension"] == "carol@uni.edu" and extended["fraction"] == 0
    alice = parse_metadata(archives.GRADESCOPE_METADATA.encode())["submission_1001"]
    assert late.late_record(policy, times, "submission_1001", "/nowhere",
                            alice.trusted())["extension"] is None
