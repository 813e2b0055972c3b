"""One strategy per isolation level: the launch plan and the session's disk note read the
level's facts (no level name is compared outside isolation.LEVELS)."""
import os
import re
from pathlib import Path

import pytest

from autograder.sandbox import isolation
from autograder.sandbox.isolation import LEVELS, Layout, level_of, plan
from autograder.sandbox.limits import Limits
from autograder.sandbox.session import disk_note, plan_code

SANDBOX_DIR = Path(isolation.__file__).resolve().parent


def _layout(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    shared = tmp_path / "shared"
    shared.mkdir()
    return Layout(code_dir=str(tmp_path / "code"), work_dir=str(work), shared_dir=str(shared),
                  kit_dirs={})


def test_the_four_levels_and_an_unknown_name():
    assert list(LEVELS) == ["bwrap", "unshare", "rlimits", "none"]
    assert level_of("bwrap") is LEVELS["bwrap"] and level_of(LEVELS["none"]) is LEVELS["none"]
    with pytest.raises(ValueError, match="no isolation level 'chroot'"):
        level_of("chroot")


@pytest.mark.parametrize("name, work_limit, namespaces", [
    ("rlimits", isolation.WORK_CHECKED, False), ("none", "", False)])
def test_the_plan_of_the_levels_without_namespaces(tmp_path, name, work_limit, namespaces):
    launch = plan(name, _layout(tmp_path), Limits(), ["--code", ""])
    facts = launch.protections
    assert facts["level"] == name and launch.work_limit == work_limit
    assert facts["pid_namespace"] is namespaces and facts["network_isolated"] is namespaces
    assert facts["tmp_limit_mb"] is None
    assert bool(facts["rlimits"]) is (name != "none")
    assert launch.work_dir == str(tmp_path / "work") and launch.argv[0] != "unshare"


def test_bwrap_plans_its_own_tree_with_sized_tmpfs(tmp_path):
    if not os.path.exists("/usr/bin/bwrap") and not __import__("shutil").which("bwrap"):
        pytest.skip("bubblewrap is not installed")
    limits = Limits(tmp_bytes=64 << 20, work_bytes=32 << 20)
    launch = plan("bwrap", _layout(tmp_path), limits, [])
    assert launch.work_dir == isolation.SANDBOX_WORK and launch.work_limit == "tmpfs"
    assert launch.protections["tmp_limit_mb"] == 64 and launch.protections["pid_namespace"]
    assert str(64 << 20) in launch.argv and "--unshare-net" in launch.argv


def test_the_disk_note_and_the_code_path_follow_the_level():
    limits = Limits(tmp_bytes=64 << 20, work_bytes=32 << 20, file_bytes=16 << 20)
    assert "/tmp holds at most 64 MB" in disk_note("bwrap", limits)
    assert "/tmp" not in disk_note("rlimits", limits) and "32 MB" in disk_note("rlimits", limits)
    assert disk_note("none", limits) == ""
    assert plan_code("bwrap", "/host/code") == isolation.SANDBOX_CODE
    assert plan_code("unshare", "/host/code") == "/host/code"


def test_each_level_is_a_class_of_its_own_that_builds_and_describes_itself():
    assert len({type(level) for level in LEVELS.values()}) == 4
    for level in LEVELS.values():
        # each class declares its own command line and its own answer between submissions
        assert "between_submissions" in type(level).__dict__, level
    assert "command" in type(LEVELS["bwrap"]).__dict__
    assert "command" in type(LEVELS["unshare"]).__dict__
    # the rlimits level words its own warning; the namespaced and trusted ones have none
    assert "runs as you" in LEVELS["rlimits"].warning(1000)
    assert [LEVELS[name].warning(0, False) for name in ("bwrap", "unshare", "none")] == [""] * 3


def test_no_level_name_is_compared_outside_the_strategy_table():
    grade_dir = SANDBOX_DIR.parent / "grade"
    for path in [SANDBOX_DIR / name for name in (
            "isolation.py", "levels.py", "host.py", "session.py", "worker.py", "process.py")] \
            + [grade_dir / "level_warning.py"]:
        name = path.name
        text = path.read_text()
        assert not re.search(r"level\s*(==|!=)\s*[\"']|level\s+(not\s+)?in\s*\(\s*[\"']", text), name
