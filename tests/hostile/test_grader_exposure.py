"""Attacks on the grader process itself, graded in one class run beside a reference submission.

Expected: the run completes (exit 0, no grader error); every submission gets a score and
a message saying what happened; gradebook.csv and summary.md list every submission under
a safe, unique id, and a rerun finds them all finished; every report stays small; no
student text becomes live markdown or HTML; the grader's own memory stays bounded while
it reads the hostile notebooks.
"""
import json
import re
import subprocess
import sys
from html.parser import HTMLParser

import mistune
import pytest

from autograder.files import csv_cells

from autograder.results import schema as gradescope
from tests.hostile import corpus, exposure_attacks, support

REPORT_BYTES = 2_000_000
SAFE_ID = re.compile(r"^[A-Za-z0-9@+_][A-Za-z0-9._@+-]*$")


@pytest.fixture(scope="module")
def exposure_run(tmp_path_factory, fixture_model, cifar10_dir):
    root = tmp_path_factory.mktemp("exposure")
    classroom, grades = root / "class", root / "grades"
    attacks = exposure_attacks.build(classroom, fixture_model)
    correct = corpus.build_correct(classroom, fixture_model, 1)
    spec = support.class_spec(root / "grading.toml")
    args = (classroom, "--out", grades, "--spec", spec, "--items", corpus.CI_ITEMS,
            "--cifar-dir", cifar10_dir)
    proc = support.grade_command(*args, timeout=1200)
    rerun = support.grade_command(*args, timeout=300)
    reports = {}
    for path in grades.glob("*/results.json"):
        data = json.loads(path.read_bytes().decode("utf-8"))   # valid UTF-8, valid JSON
        reports[data["extra_data"]["submission"]] = (path.parent, data)
    yield {"proc": proc, "rerun": rerun, "attacks": attacks, "correct": correct,
           "grades": grades, "reports": reports, "total": len(attacks) + len(correct)}


def report_of(run, name):
    shown = exposure_attacks.display_name(name)
    assert shown in run["reports"], "no report names %r" % shown
    return run["reports"][shown]


def test_the_class_run_completes_with_every_submission(exposure_run):
    proc, total = exposure_run["proc"], exposure_run["total"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Graded: %d of %d submissions" % (total, total) in proc.stdout
    rows = (exposure_run["grades"] / "gradebook.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == total + 1
    # a formula-like id (+1+1, @SUM_A1) is written as text, with a leading quote (issue 22)
    quoted = [row.split(",")[0] for row in rows[1:]]
    assert "'+1+1" in quoted
    ids = [csv_cells.original(i) for i in quoted]
    assert len({i.lower() for i in ids}) == total
    assert all(SAFE_ID.match(i) for i in ids), ids
    summary = (exposure_run["grades"] / "summary.md").read_text(encoding="utf-8")
    assert "Graded: %d of %d submissions" % (total, total) in summary
    assert len(exposure_run["reports"]) == total


def test_a_rerun_finds_every_submission_finished(exposure_run):
    rerun, total = exposure_run["rerun"], exposure_run["total"]
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "grading 0 of %d submissions (%d already finished)" % (total, total) in rerun.stderr


def test_every_attack_gets_a_score_and_a_message(exposure_run):
    failures = []
    for attack in exposure_run["attacks"]:
        folder, data = report_of(exposure_run, attack.name)
        assert gradescope.validate(data) == [], attack.what
        assert data["extra_data"]["batch"]["id"] == folder.name
        scores = {t["extra_data"]["item"]: (t["score"], t["max_score"]) for t in data["tests"]}
        wrong = ["%s should be 0, got %s" % (i, scores[i][0]) for i in attack.zero if scores[i][0]]
        wrong += ["%s should be full, got %s" % (i, scores[i][0]) for i in attack.full
                  if scores[i][0] != scores[i][1]]
        told = data["output"] + "\n" + "\n".join(t["output"] for t in data["tests"])
        if not re.search(attack.message, told):
            wrong.append("no message matching %r" % attack.message)
        if data["extra_data"].get("grader_error"):
            wrong.append("grader error: %s" % data["extra_data"]["grader_error"][:300])
        if wrong:
            failures.append("%s: %s" % (attack.what, "; ".join(wrong)))
    assert not failures, "\n".join(failures)


def test_the_reference_submission_keeps_full_marks(exposure_run):
    folder, data = report_of(exposure_run, b"correct_1")
    assert folder.name == "correct_1"
    assert data["score"] == corpus.CI_POINTS


def test_every_report_stays_small(exposure_run):
    """Each submission's reports, whatever its code raised or printed (40 MB of it)."""
    sizes = {path.relative_to(exposure_run["grades"]): path.stat().st_size
             for path in exposure_run["grades"].glob("*/*") if path.is_file()}
    print("largest reports:", sorted(sizes.items(), key=lambda kv: -kv[1])[:4])
    assert len(sizes) >= 3 * exposure_run["total"]
    assert max(sizes.values()) < REPORT_BYTES
    for name in (b"raise_40mb", b"print_40mb"):
        _, data = report_of(exposure_run, name)
        assert len(json.dumps(data)) < REPORT_BYTES


class Elements(HTMLParser):
    def __init__(self, page):
        super().__init__()
        self.tags, self.headings, self._in_heading = [], [], False
        self.links = []   # hrefs of <a> elements
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_heading = tag in ("h1", "h2")
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def foreign_links(self):
        """Links that are not the report's own: in-page anchors (href="#...") and the pictures
        it writes beside itself (feedback-<item>-<what>.png)."""
        return [href for href in self.links if not href.startswith("#")
                and not re.fullmatch(r"feedback-[A-Za-z0-9._-]+\.png", href)]

    def handle_data(self, data):
        if self._in_heading:
            self.headings.append(data)

    def handle_endtag(self, tag):
        self._in_heading = False


@pytest.mark.parametrize("name", [b"markup_notebook", b"raise_markup"])
def test_no_student_markup_becomes_live(exposure_run, name):
    folder, _ = report_of(exposure_run, name)
    # feedback.md rendered the way a permissive viewer would (raw HTML allowed)
    # (the reports link their own sections and pictures; no student text becomes a link)
    rendered = Elements(mistune.html(folder.joinpath("feedback.md").read_text(encoding="utf-8")))
    assert "script" not in rendered.tags and rendered.foreign_links() == []
    assert not any("Heading" in h for h in rendered.headings), rendered.headings
    page = Elements(folder.joinpath("feedback.html").read_text(encoding="utf-8"))
    assert "script" not in page.tags and page.foreign_links() == []
    assert not any("Heading" in h for h in page.headings)


def test_a_name_that_is_not_utf8_is_shown_escaped(exposure_run):
    folder, data = report_of(exposure_run, b"caf\xe9 \xff\xfe")
    assert data["extra_data"]["submission"] == "caf\\xe9 \\xff\\xfe"
    assert folder.name.startswith("caf")
    md = folder.joinpath("feedback.md").read_text(encoding="utf-8")
    assert md.splitlines()[0] == "# Grading report: caf\\\\xe9 \\\\xff\\\\xfe"


MEMORY_SCRIPT = """
import sys
from autograder.grade.pipeline import GradeOptions, Grader
spec, out, correct, *hostile = sys.argv[1:]
def peak_mb():
    # VmHWM: this process's own peak (getrusage's ru_maxrss starts from the forking parent's)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmHWM:"))
with Grader(GradeOptions(spec_path=spec, items=%r, seed=1)) as grader:
    grader.grade(correct, out + "/correct")
    print(peak_mb())
    for i, path in enumerate(hostile):
        result = grader.grade(path, out + "/%%d" %% i)
        print(" | ".join(result.problems))
    print(peak_mb())
""" % corpus.SOFTMAX


def test_the_grader_process_memory_stays_bounded(tmp_path, fixture_model):
    """The grader's own peak (not its children's) while it reads the hostile notebooks: the old
    grader validated a 60 MB notebook in its own process, 2.6 GB at the peak."""
    correct = corpus.reference(tmp_path / "correct", fixture_model)
    deep = corpus.reference(tmp_path / "deep", fixture_model)
    exposure_attacks.deep_notebook(deep / "CNN.ipynb")
    huge = corpus.reference(tmp_path / "huge", fixture_model)
    exposure_attacks.huge_notebook(huge / "CNN.ipynb")
    cells = corpus.reference(tmp_path / "cells", fixture_model)   # under the cap, costly to parse
    exposure_attacks.tiny_cells_notebook(cells / "CNN.ipynb", 250_000)
    spec = support.class_spec(tmp_path / "grading.toml")
    proc = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, spec, str(tmp_path / "out"),
                           str(correct), str(deep), str(huge), str(cells)],
                          capture_output=True, text=True, timeout=600, cwd=str(support.REPO_ROOT))
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    before, after = int(lines[0]), int(lines[-1])
    print("grader peak: %d MB after a correct submission, %d MB after the hostile notebooks"
          % (before, after))
    assert "nested too deeply" in lines[1] and "over the 20 MB limit" in lines[2]
    assert after - before < 50 and after < 400
