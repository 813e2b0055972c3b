"""The late policy: penalties per started unit, grace, cap, extensions, times and their sources."""
import json
import zipfile
from dataclasses import replace

import pytest

from autograder.policy import late
from autograder.spec import LatePolicy, SpecError, parse_spec

POLICY = LatePolicy(deadline="2026-12-11T23:59:00-08:00", penalty_per_unit=0.1, max_penalty=0.5)


def record_at(when, policy=POLICY, times=None, entry="alice", source="/nonexistent"):
    times = times or late.SubmissionTimes(times={entry: late.parse_time(when)})
    return late.late_record(policy, times, entry, source)


def test_on_time_and_inside_the_grace_cost_nothing():
    assert record_at("2026-12-11T23:59:00-08:00")["fraction"] == 0
    graced = replace(POLICY, grace_minutes=15)
    assert record_at("2026-12-12T08:10:00Z", graced)["fraction"] == 0    # 11 minutes late
    assert record_at("2026-12-12T08:20:00Z", graced)["fraction"] == 0.1  # 21 minutes late


def test_each_started_day_costs_a_unit_up_to_the_cap():
    assert record_at("2026-12-12T08:00:00Z")["units"] == 1          # one minute late (UTC)
    assert record_at("2026-12-13T07:58:00Z")["fraction"] == 0.1     # 23 h 59 min
    assert record_at("2026-12-13T08:00:00Z")["fraction"] == 0.2     # 24 h 1 min
    assert record_at("2026-12-30T00:00:00Z")["fraction"] == 0.5     # capped


def test_hourly_units():
    hourly = replace(POLICY, unit="hour", penalty_per_unit=0.02, max_penalty=1.0)
    record = record_at("2026-12-12T10:30:00Z", hourly)             # 2 h 31 min late
    assert record["units"] == 3 and record["fraction"] == pytest.approx(0.06)


def test_penalty_is_a_share_of_the_raw_score():
    record = record_at("2026-12-13T09:00:00Z")                     # 2 days
    assert late.penalty_points(85, record) == 17
    assert late.score_after(85, record) == 68
    line = late.describe(85, 100, record)
    assert "2 days late" in line and "-17" in line and "68 / 100" in line
    assert late.describe(85, 100, record_at("2026-12-11T20:00:00-08:00")) == ""


def test_policy_off_without_a_deadline():
    assert late.late_record(LatePolicy(), late.SubmissionTimes(), "alice", "/x") is None
    assert late.score_after(85, None) == 85


def test_extensions_by_submission_or_by_student_in_gradescopes_metadata(tmp_path):
    (tmp_path / "ext.csv").write_text("student,deadline,extra_days\n"
                                      "bob@uni.edu,,2\n"
                                      "carol,2026-12-20T00:00:00Z,\n")
    policy = replace(POLICY, extensions="ext.csv")
    times = late.SubmissionTimes.load(policy, str(tmp_path))
    trusted = {"created_at": "2026-12-13T10:00:00.000000-08:00",
               "users": [{"email": "bob@uni.edu", "id": 17, "name": "Bob"}]}
    record = late.late_record(policy, times, "sub_17", str(tmp_path / "upload"), trusted)
    assert record["extension"] == "bob@uni.edu" and record["fraction"] == 0  # 2 extra days
    times.times["carol"] = late.parse_time("2026-12-19T00:00:00Z")
    assert late.late_record(policy, times, "carol", "/x")["fraction"] == 0
    times.times["dave"] = late.parse_time("2026-12-19T00:00:00Z")
    assert late.late_record(policy, times, "dave", "/x")["fraction"] == 0.5


def upload_with_metadata(folder, created_at, users=()):
    """A submission folder whose upload carries its own submission_metadata.json."""
    folder.mkdir(parents=True)
    (folder / "nndl").mkdir()
    (folder / late.METADATA_FILE).write_text(json.dumps({
        "created_at": created_at, "users": [dict(user) for user in users]}))
    return folder


def test_an_upload_claiming_an_early_time_is_not_believed(tmp_path):
    upload = upload_with_metadata(tmp_path / "mallory", "2026-12-01T00:00:00Z")
    record = late.late_record(POLICY, late.SubmissionTimes(), "mallory", str(upload))
    assert record["submitted_at"] is None and record["fraction"] == 0
    assert "no submission time from the instructor" in record["unknown"]
    assert "ignored" in late.describe(80, 100, record)


def test_a_late_upload_claiming_an_early_time_is_penalised_by_the_times_csv(tmp_path):
    (tmp_path / "times.csv").write_text("submission,submitted_at\nmallory,2026-12-14T09:00:00Z\n")
    policy = replace(POLICY, submission_times="times.csv")
    times = late.SubmissionTimes.load(policy, str(tmp_path))
    upload = upload_with_metadata(tmp_path / "mallory", "2026-12-01T00:00:00Z")
    record = late.late_record(policy, times, "mallory", str(upload))
    assert record["units"] == 3 and record["fraction"] == pytest.approx(0.3)
    line = late.describe(80, 100, record)
    assert "-24" in line and "submission_metadata.json in your upload was ignored" in line


def test_a_late_upload_claiming_an_early_time_is_penalised_by_gradescopes_metadata(tmp_path):
    upload = upload_with_metadata(tmp_path / "upload", "2026-12-01T00:00:00Z")
    trusted = {"id": 991, "created_at": "2026-12-12T09:00:00Z", "users": []}
    record = late.late_record(POLICY, late.SubmissionTimes(), "991", str(upload), trusted)
    assert record["submitted_at"] == "2026-12-12T09:00:00+00:00" and record["fraction"] == 0.1


def test_an_upload_naming_a_classmate_with_an_extension_gets_no_extension(tmp_path):
    (tmp_path / "ext.csv").write_text("student,extra_days\nbob@uni.edu,7\nbob,7\n")
    (tmp_path / "times.csv").write_text("submission,submitted_at\nmallory,2026-12-13T09:00:00Z\n")
    policy = replace(POLICY, extensions="ext.csv", submission_times="times.csv")
    times = late.SubmissionTimes.load(policy, str(tmp_path))
    upload = upload_with_metadata(tmp_path / "mallory", "2026-12-13T09:00:00Z",
                                  users=[{"email": "bob@uni.edu", "name": "bob", "sid": "bob"}])
    record = late.late_record(policy, times, "mallory", str(upload))
    assert record["extension"] is None and record["fraction"] == pytest.approx(0.2)
    assert record["deadline"] == POLICY.deadline


def test_metadata_inside_a_zipped_upload_is_noticed_never_read(tmp_path):
    upload = tmp_path / "mallory.zip"
    with zipfile.ZipFile(upload, "w") as z:
        z.writestr("mine/" + late.METADATA_FILE, json.dumps({"created_at": "2026-12-01T00:00:00Z"}))
        z.writestr("mine/nndl/cnn.py", "")
    record = late.late_record(POLICY, late.SubmissionTimes(), "mallory", str(upload))
    assert record["submitted_at"] is None and record["ignored"]
    assert "ignored" not in late.late_record(POLICY, late.SubmissionTimes(), "eve",
                                             str(tmp_path / "nothing"))


def test_unknown_time_is_recorded_and_costs_nothing(tmp_path):
    record = late.late_record(POLICY, late.SubmissionTimes(), "eve", str(tmp_path))
    assert record["fraction"] == 0 and "no submission time from the instructor" in record["unknown"]
    assert "not applied" in record["unknown"] and late.describe(80, 100, record) == ""
    broken = {"created_at": "last tuesday"}
    assert "unknown" in late.late_record(POLICY, late.SubmissionTimes(), "eve", str(tmp_path),
                                         broken)


def test_a_class_run_counts_the_submissions_without_a_trusted_time():
    timed = record_at("2026-12-12T09:00:00Z")
    untimed = late.late_record(POLICY, late.SubmissionTimes(), "eve", "/x")
    line = late.untimed_warning([timed, untimed, untimed])
    assert line.startswith("late policy: 2 of 3 submissions have no submission time")
    assert late.untimed_warning([timed, None]) == ""


def test_metadata_that_is_a_link_or_too_big_is_not_read(tmp_path):
    outside = tmp_path / "elsewhere.json"
    outside.write_text(json.dumps({"created_at": "2026-12-01T00:00:00Z"}))
    assert late.read_metadata(str(outside))["created_at"] == "2026-12-01T00:00:00Z"
    linked = tmp_path / late.METADATA_FILE
    linked.symlink_to(outside)
    assert late.read_metadata(str(linked)) is None
    big = tmp_path / "big.json"
    big.write_text('{"a": "%s"}' % ("x" * late.METADATA_BYTES))
    assert late.read_metadata(str(big)) is None
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100000 + "]" * 100000)
    assert late.read_metadata(str(deep)) is None
    assert late.read_metadata(str(tmp_path)) is None               # a folder
    assert late.read_metadata(str(tmp_path / "missing.json")) is None


def test_times_csv_and_its_errors(tmp_path):
    (tmp_path / "times.csv").write_text("submission,submitted_at\nalice,2026-12-12T09:00:00Z\n")
    times = late.SubmissionTimes.load(replace(POLICY, submission_times="times.csv"), str(tmp_path))
    assert late.late_record(POLICY, times, "alice", "/x")["units"] == 1
    (tmp_path / "naive.csv").write_text("submission,submitted_at\nalice,2026-12-12 09:00\n")
    with pytest.raises(late.LateError, match="UTC offset"):
        late.SubmissionTimes.load(replace(POLICY, submission_times="naive.csv"), str(tmp_path))
    (tmp_path / "ext.csv").write_text("student,extra_days\nbob,soon\n")
    with pytest.raises(late.LateError, match="numbers"):
        late.SubmissionTimes.load(replace(POLICY, extensions="ext.csv"), str(tmp_path))


@pytest.mark.parametrize("table, message", [
    ({"deadline": "next friday"}, "ISO 8601"),
    ({"deadline": "2026-12-11T23:59:00"}, "UTC offset"),
    ({"unit": "week"}, "unit"),
    ({"max_penalty": 1.5}, "max_penalty"),
    ({"penalty_per_unit": "10%"}, "must be a float"),
    ({"deadlines": "2026-12-11T23:59:00Z"}, "no key"),
])
def test_spec_validates_the_late_table(table, message):
    with pytest.raises(SpecError, match=message):
        parse_spec({"settings": {"visible_only": True}, "item": [], "late": table})


def test_spec_accepts_a_toml_datetime():
    import tomllib
    data = tomllib.loads('[settings]\nvisible_only = true\n[late]\n'
                        'deadline = 2026-12-11T23:59:00-08:00\n')
    assert parse_spec(data).late.deadline == "2026-12-11T23:59:00-08:00"
