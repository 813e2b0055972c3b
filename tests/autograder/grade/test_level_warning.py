"""The grader says plainly when its sandbox cannot protect the machine's root files: at the
rlimits level, as root, without an unprivileged uid (the Python install unreachable by
other users), student code runs as root; and when it cannot keep a submission from leaving
data for later ones (the rlimits level, issue 22)."""
import os
import sys

import pytest

from autograder.grade.level_warning import weak_level_warning
from tests.autograder.grade import helpers
from tests.hostile import support


def test_root_without_a_uid_drop_is_told_that_root_files_are_exposed():
    text = weak_level_warning("rlimits", euid=0, python_reachable=False)
    assert "runs as root" in text and "every root-owned file" in text and "bubblewrap" in text


def test_root_with_a_uid_drop_is_told_only_permissions_protect_the_machine():
    text = weak_level_warning("rlimits", euid=0, python_reachable=True)
    assert "unprivileged user" in text and "only file permissions" in text
    assert "every root-owned file" not in text
    assert "world-writable folders other than /tmp" in text and "graded later" in text


def test_an_ordinary_user_is_told_submissions_can_leave_data_for_later_ones():
    text = weak_level_warning("rlimits", euid=1000, python_reachable=True)
    assert "runs as you" in text and "graded later" in text and "bubblewrap" in text


@pytest.mark.parametrize("level, euid", [("bwrap", 0), ("unshare", 0), ("bwrap", 1000)])
def test_no_warning_where_namespaces_protect_the_machine(level, euid):
    assert weak_level_warning(level, euid=euid, python_reachable=False) == ""


def _python_reachable_by_others():
    """Every folder above the interpreter's install lets other users through (o+x), checked
    here independently of the sandbox's own probe."""
    for root in {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix),
                 os.path.dirname(os.path.realpath(sys.executable))}:
        folder = root
        while folder not in ("/", ""):
            if not os.stat(folder).st_mode & 0o001:
                return False
            folder = os.path.dirname(folder)
    return True


def test_grade_prints_the_warning_at_the_rlimits_level(tmp_path):
    submission = helpers.reference_submission(tmp_path / "reference")
    proc = support.grade_command(submission, "--out", tmp_path / "out", "--sandbox", "rlimits",
                                 "--items", "layers.softmax_loss.loss", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    if os.geteuid() != 0:
        assert "runs as you" in proc.stderr
    elif _python_reachable_by_others():
        assert "only file permissions and resource limits protect" in proc.stderr
    else:
        assert "can read and write every root-owned file" in proc.stderr


def test_a_machine_whose_keyrings_cannot_be_refused_is_told_so():
    text = weak_level_warning("bwrap", euid=0, python_reachable=True, machine="riscv64")
    assert "cannot refuse kernel keyrings" in text and "riscv64" in text
    assert weak_level_warning("bwrap", euid=0, python_reachable=True, machine="x86_64") == ""
