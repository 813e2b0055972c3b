"""Untrusted notebooks are parsed in a limited child: every way they fail is a problem, not a crash."""
import json
import os
import subprocess
import sys

import nbformat
import pytest

from autograder.submission import locate, parse_limited
from autograder.submission.notebooks import notebook_limit_of, notebook_problem
from autograder.submission.parse_limited import ParseLimits, check_notebooks


def valid_notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("print(1)"))
    path.write_text(nbformat.writes(nb))
    return str(path)


def test_a_valid_and_a_broken_notebook_are_told_apart(tmp_path):
    good = valid_notebook(tmp_path / "good.ipynb")
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    verdicts = check_notebooks([good, str(broken)])
    assert verdicts[good] == ""
    assert verdicts[str(broken)].startswith("is not valid JSON")


def test_deep_nesting_is_a_problem_not_a_recursion_error(tmp_path):
    deep = tmp_path / "deep.ipynb"
    deep.write_text('{"cells": ' + "[" * 200_000 + "]" * 200_000 + "}")
    good = valid_notebook(tmp_path / "good.ipynb")
    verdicts = check_notebooks([str(deep), good])
    assert verdicts[str(deep)] == "is nested too deeply to be read as JSON"
    assert verdicts[good] == ""


def test_an_oversized_notebook_is_refused_before_any_parsing(tmp_path, monkeypatch):
    big = tmp_path / "big.ipynb"
    with open(big, "wb") as f:
        f.truncate(3 * 2 ** 20)       # 3 MB of NUL bytes: parsing it would fail differently
    started = []
    monkeypatch.setattr(parse_limited, "_run_child", lambda *a: started.append(a) or ({}, ""))
    verdicts = check_notebooks([str(big)], ParseLimits(file_mb=2))
    assert "over the 2 MB limit" in verdicts[str(big)]
    assert started == []


def tiny_cells(path, count):
    cells = ",".join(['{"cell_type": "raw", "source": "", "metadata": {}}'] * count)
    path.write_text('{"cells": [%s], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}' % cells)
    return str(path)


def test_a_notebook_over_the_memory_limit_is_a_problem(tmp_path):
    many = tiny_cells(tmp_path / "many.ipynb", 200_000)
    verdicts = check_notebooks([many], ParseLimits(memory_mb=160))
    assert "too large or too complex" in verdicts[many]


def test_the_child_dying_on_one_notebook_leaves_the_others_checked(tmp_path):
    # the CPU limit kills the child on the first notebook; a fresh child checks the second
    slow = tiny_cells(tmp_path / "slow.ipynb", 200_000)
    good = valid_notebook(tmp_path / "good.ipynb")
    verdicts = check_notebooks([slow, good], ParseLimits(cpu_seconds=4, wall_seconds=60))
    assert verdicts[slow] == "could not be checked (more than 4 s of CPU): too large or too complex"
    assert verdicts[good] == ""


def test_a_notebook_past_the_deadline_is_a_problem(tmp_path):
    slow = tiny_cells(tmp_path / "slow.ipynb", 100_000)
    verdicts = check_notebooks([slow], ParseLimits(wall_seconds=0.5))
    assert verdicts[slow] == "took more than 0.5 s to check (too large or too complex)"


def test_links_and_pipes_are_refused(tmp_path):
    good = valid_notebook(tmp_path / "good.ipynb")
    link = tmp_path / "link.ipynb"
    link.symlink_to(good)
    pipe = tmp_path / "pipe.ipynb"
    os.mkfifo(pipe)
    verdicts = check_notebooks([str(link), str(pipe)])
    assert verdicts[str(link)] == "is not a regular file"
    assert verdicts[str(pipe)] == "is not a regular file"


def test_the_grader_process_never_parses_the_notebook(tmp_path, monkeypatch):
    # the parsers in this process are poisoned: only the child may parse
    good = valid_notebook(tmp_path / "good.ipynb")
    poisoned = lambda *a, **k: pytest.fail("parsed in the grader")  # noqa: E731
    for module, name in ((nbformat, "reads"), (nbformat, "validate"),
                         (parse_limited, "notebook_problem_here")):
        monkeypatch.setattr(module, name, poisoned)
    assert notebook_problem(good) == ""


def test_a_cell_type_with_markup_is_reported_in_one_line(tmp_path):
    nb = json.loads(nbformat.writes(nbformat.v4.new_notebook()))
    nb["cells"] = [{"cell_type": "<script>alert(1)</script>\n# Heading", "source": "",
                    "metadata": {}}]
    path = tmp_path / "inject.ipynb"
    path.write_text(json.dumps(nb))
    problem = notebook_problem(str(path))
    assert problem.startswith("is not a valid notebook")
    assert "\n" not in problem and len(problem) <= parse_limited.PROBLEM_CHARS


def test_locate_uses_the_given_notebook_limit(tmp_path):
    root = tmp_path / "sub"
    root.mkdir()
    valid_notebook(root / "CNN.ipynb")
    (root / "CNN-Layers.ipynb").write_bytes(b" " * (2 * 2 ** 20))
    submission = locate(str(root), str(tmp_path / "staged"), notebook_limit_mb=1)
    assert submission.notebooks["CNN.ipynb"] == ""
    assert "over the 1 MB limit" in submission.notebooks["CNN-Layers.ipynb"]


def test_the_limit_comes_from_the_spec_settings():
    from autograder.spec import load_spec
    assert notebook_limit_of(load_spec().settings) == 20


def test_the_grader_memory_does_not_grow_with_the_notebook(tmp_path):
    """A 15 MB notebook of tiny cells costs the child hundreds of MB; the grader nothing."""
    many = tiny_cells(tmp_path / "many.ipynb", 300_000)
    script = ("import resource, sys\n"
              "from autograder.submission.parse_limited import ParseLimits, check_notebooks\n"
              "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)\n"
              "print(check_notebooks([sys.argv[1]], ParseLimits(memory_mb=600, cpu_seconds=20)))\n"
              "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)\n"
              # the child was forked by the preloaded parent, which reaped it: the parent's
              # end hands the child's usage on to this process's RUSAGE_CHILDREN
              "from autograder.submission.parse_preloaded import stop_preloaded\n"
              "stop_preloaded()\n"
              "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n")
    proc = subprocess.run([sys.executable, "-c", script, many], capture_output=True,
                          text=True, timeout=120)
    before_mb, verdict, grader_mb, child_mb = proc.stdout.splitlines()
    print("grader %s -> %s MB, parsing child %s MB: %s" % (before_mb, grader_mb, child_mb, verdict))
    assert int(child_mb) > 150                      # the parse is expensive ...
    assert int(grader_mb) - int(before_mb) < 10     # ... and none of it is the grader's


# ---- the preloaded parent (parse_preloaded.py) -----------------------------------------------

def _parent_pid():
    from autograder.submission import parse_preloaded
    checker = parse_preloaded.preloaded_checker(parse_limited.PRELOADED_COMMAND)
    return checker.proc.pid if checker is not None else None


def test_checks_are_forked_from_one_preloaded_parent_that_outlives_a_killed_child(tmp_path):
    # A child killed by its CPU limit or by the deadline leaves the parent serving the next
    # check; no check runs in the parent itself (it never opens a submitted file).
    from autograder.submission import parse_preloaded
    parse_preloaded.stop_preloaded()
    good = valid_notebook(tmp_path / "good.ipynb")
    assert check_notebooks([good]) == {good: ""}
    parent = _parent_pid()
    assert parent is not None
    slow = tiny_cells(tmp_path / "slow.ipynb", 100_000)
    assert check_notebooks([slow], ParseLimits(wall_seconds=0.5))[slow] == \
        "took more than 0.5 s to check (too large or too complex)"
    assert check_notebooks([slow, good], ParseLimits(cpu_seconds=1, wall_seconds=60)) == {
        slow: "could not be checked (more than 1 s of CPU): too large or too complex", good: ""}
    assert _parent_pid() == parent
    with open("/proc/%d/cmdline" % parent, "rb") as f:
        assert f.read().split(b"\0")[-2] == parse_preloaded.PRELOADED.encode()
    open_files = os.listdir("/proc/%d/fd" % parent)
    targets = {os.path.realpath("/proc/%d/fd/%s" % (parent, fd)) for fd in open_files}
    assert not any(t.endswith(".ipynb") for t in targets)


def test_without_the_preloaded_parent_a_child_is_started_from_scratch(tmp_path, monkeypatch):
    from autograder.submission import parse_preloaded
    parse_preloaded.stop_preloaded()
    monkeypatch.setattr(parse_limited, "PRELOADED_COMMAND", [sys.executable, "-c", "pass"])
    good = valid_notebook(tmp_path / "good.ipynb")
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    verdicts = check_notebooks([good, str(broken)])
    assert verdicts[good] == "" and verdicts[str(broken)].startswith("is not valid JSON")
    assert parse_preloaded.preloaded_checker(parse_limited.PRELOADED_COMMAND) is None


def test_a_forked_grader_starts_its_own_preloaded_parent(tmp_path):
    # A class run's pool may fork grading processes: two processes must never share one
    # parent's pipes (their requests and replies would interleave).
    good = valid_notebook(tmp_path / "good.ipynb")
    assert check_notebooks([good]) == {good: ""}
    parent = _parent_pid()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            ok = check_notebooks([good]) == {good: ""}
            os.write(write, json.dumps([ok, _parent_pid()]).encode())
            from autograder.submission import parse_preloaded
            parse_preloaded.stop_preloaded()
        finally:
            os._exit(0)
    os.close(write)
    ok, forked_parent = json.loads(os.read(read, 1024))
    os.waitpid(child, 0)
    os.close(read)
    assert ok and forked_parent not in (None, parent)
    assert _parent_pid() == parent and check_notebooks([good]) == {good: ""}
