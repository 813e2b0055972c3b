"""No channel between submissions (issue 22 point 2): what a submission leaves -- keys in the
kernel's keyrings, SysV and POSIX IPC objects, files in every folder it may write, an abstract
socket, a daemon that left its session -- is not reachable by a later one graded under the
same worker and the same uid slot (tests/hostile/channel_attacks.py).

One class run per isolation level, one pool process (--jobs 1), so the writer, then the
reader, then the self-check are graded in that order by the same process, which claims the
same uid slot each time (the results record the uid: checked). Expected: the reader finds
nothing; the self-check, storing and searching in one sandbox, finds all it stored (the
search works); nothing is left running and nothing of the marker is left on the machine.
"""
import json
import os
import secrets

import pytest

from autograder.sandbox.isolation import available_level, level_of
from tests.hostile import channel_attacks, corpus, support
from tests.autograder.grade import helpers

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or available_level() != "bwrap",
                                reason="runs as root with bubblewrap, as CI does")

NAMES = {"writer": "channel_1_writer", "reader": "channel_2_reader",
         "self_check": "channel_3_self_check"}
# Stored by the writer at every level (the filter refuses keyrings and mq_open).
ALWAYS_STORED = {"file in $HOME", "daemon process", "abstract unix socket"}


def _class_run(root, fixture_model, level):
    token = secrets.token_hex(8)
    classroom, grades = root / "class", root / "grades"
    classroom.mkdir()
    for role, name in NAMES.items():
        # Without namespaces the writer would walk (and write into) the host's whole tree.
        channel_attacks.submission(classroom / name, fixture_model, role, token,
                                   walk=level != "rlimits")
    spec = helpers.spec_with(root / "grading.toml", {corpus.CONV: {"time_limit": 30.0}})
    tmpdir = root / ("tmp-" + token)
    tmpdir.mkdir()
    proc = support.grade_command(classroom, "--out", grades, "--spec", spec, "--items",
                                 corpus.CONV, "--jobs", 1, "--sandbox", level,
                                 env={"TMPDIR": str(tmpdir), "AUTOGRADER_TEST_MARKER": token},
                                 timeout=600)
    reports = {}
    for role, name in NAMES.items():
        path = grades / name / "results.json"
        reports[role] = json.loads(path.read_text()) if path.exists() else None
        if reports[role]:
            print("%s at %s: %s" % (role, level, [line for line in _told(reports[role])
                                                 .splitlines() if "CHANNEL" in line][:1]))
    return {"proc": proc, "token": token, "reports": reports, "tmpdir": tmpdir, "level": level,
            "leftovers": support.leftover_processes(token)}


def _levels():
    """bwrap and unshare; rlimits only where it drops to a uid (else its worker runs as root
    and its leftovers are the grader's own: "shared", which grade warns about)."""
    return ["bwrap", "unshare"] + (["rlimits"] if level_of("rlimits").drops_uid(True) else [])


@pytest.fixture(scope="module", params=_levels())
def run(request, tmp_path_factory, fixture_model):
    return _class_run(tmp_path_factory.mktemp("channel-" + request.param), fixture_model,
                      request.param)


def _told(data):
    return data["output"] + "\n" + "\n".join(t["output"] for t in data["tests"])


def test_the_three_are_graded_in_order_under_one_uid(run):
    proc = run["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    uids = {role: data["extra_data"]["sandbox"]["unprivileged_uid"]
            for role, data in run["reports"].items()}
    # The same uid each time, or none where the level does not drop to one (unshare with a
    # Python install other users cannot reach).
    assert len(set(uids.values())) == 1, uids
    if run["level"] == "bwrap":
        assert None not in uids.values()


def test_the_writer_stored_the_marker_everywhere_it_could(run):
    stored = set(channel_attacks.told_places(channel_attacks.WRITER_TEXT,
                                             _told(run["reports"]["writer"])))
    assert ALWAYS_STORED <= stored, stored
    sandbox = run["reports"]["writer"]["extra_data"]["sandbox"]
    assert sandbox["keyrings_blocked"] and not stored & {
        "session keyring", "user keyring", "user-session keyring", "persistent keyring",
        "POSIX message queue"}, stored


def test_a_later_submission_under_the_same_uid_finds_nothing(run):
    text = _told(run["reports"]["reader"])
    found = channel_attacks.told_places(channel_attacks.READER_TEXT, text, group=2)
    assert found == [], found
    assert int(channel_attacks.READER_TEXT.search(text).group(1)) >= 10


def test_the_search_finds_what_the_same_submission_stored(run):
    text = _told(run["reports"]["self_check"])
    missed = channel_attacks.told_places(channel_attacks.SELF_TEXT, text, group=2)
    assert missed == [] and int(channel_attacks.SELF_TEXT.search(text).group(1)) >= 3, text


def test_what_the_sandbox_was_told_is_recorded_per_level(run):
    sandbox = run["reports"]["reader"]["extra_data"]["sandbox"]
    expected = "scrubbed" if sandbox["level"] == "rlimits" else "private"
    assert sandbox["between_submissions"] == expected


def test_nothing_is_left_running_or_on_the_machine(run):
    assert run["leftovers"] == []
    mark = "channel-" + run["token"]
    for folder in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", str(run["tmpdir"])):
        if os.path.isdir(folder):
            assert not [name for name in os.listdir(folder) if mark in name], folder
    assert list(run["tmpdir"].iterdir()) == []
    assert channel_attacks.marker_files(mark) == []   # /dev/cpu as well (root-owned folders)
    with open("/proc/keys") as f:
        assert mark not in f.read()
    ipc_key = str(0x40000000 | (int(run["token"][:6], 16) << 4))
    for kind in ("shm", "sem", "msg"):
        with open("/proc/sysvipc/%s" % kind) as f:
            keys = {line.split()[0] for line in f.read().splitlines()[1:]}
        assert not {str(int(ipc_key) + n) for n in (1, 2, 3)} & keys, kind
