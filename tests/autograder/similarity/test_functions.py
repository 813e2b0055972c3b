"""Similarity on what students write: graded functions one by one, shared-by-many passages as
boilerplate, prior work, and the calibration class (no honest pair flagged, every disguised
copy flagged)."""
import ast
import csv
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from autograder.release.stubs import find_regions
from autograder.similarity import compare
from autograder.similarity.extract import Extract
from autograder.similarity.functions import graded_functions, module_functions
from autograder.batch.discover import prior_sources
from autograder.similarity.run import run_similarity
from autograder.spec import SpecError, load_spec, parse_spec
from tests.autograder.similarity import calibration, synthetic

POLICY = load_spec().similarity
K = POLICY.function_tokens
RELEASE_NNDL = synthetic.RELEASE / "nndl"
SOLUTIONS_NNDL = synthetic.ROOT / "solutions" / "nndl"


def release_graded():
    return graded_functions({p.stem: p.read_text() for p in RELEASE_NNDL.glob("*.py")})


@pytest.fixture(scope="module")
def calibration_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("calibration")


@pytest.fixture(scope="module")
def calibrated(calibration_dir):
    return calibration.calibrate(calibration_dir, POLICY)


# Run in the page once loaded: per matching function, whether the two sides stand side by
# side, how many lines are marked, and any marked line holding provided text.
SIDE_BY_SIDE_CHECK = r"""<script>
window.addEventListener('load', function () {
  // the stub's signature, docstrings (this release's and the older one's), banners
  var provided = /^\s*def |YOUR CODE HERE|older wording|A naive implementation|Inputs:/;
  var report = [];
  document.querySelectorAll('section.pair div.function').forEach(function (block) {
    var sides = block.querySelectorAll('div.side');
    var a = sides[0].getBoundingClientRect(), b = sides[1].getBoundingClientRect();
    var marks = Array.from(block.querySelectorAll('mark'));
    var wrong = marks.filter(function (m) { return provided.test(m.textContent); }).length;
    report.push([block.closest('section').id, block.dataset.function,
                 b.left >= a.right && Math.abs(a.top - b.top) < 2 ? 1 : 0,
                 sides[0].querySelectorAll('mark').length, sides[1].querySelectorAll('mark').length,
                 wrong].join(','));
  });
  var out = document.createElement('pre');
  out.id = 'side-check';
  out.textContent = report.join(';');
  document.body.appendChild(out);
});
</script>"""


def test_graded_functions_are_those_with_solution_markers():
    graded = release_graded()
    marked = {}
    for path in SOLUTIONS_NNDL.glob("*.py"):
        owners = {region.owner for region in find_regions(path.read_text())}
        if owners:
            marked[path.stem] = owners
    assert {m: set(names) for m, names in graded.items()} == marked
    assert "conv_forward_naive" in graded["conv_layers"]
    assert "ThreeLayerConvNet.loss" in graded["cnn"]


def test_a_function_is_what_the_student_wrote():
    """Docstring, comments, names and the stub's own set-up lines and return do not count."""
    graded = release_graded()
    stub = (RELEASE_NNDL / "conv_layers.py").read_text()
    assert module_functions("conv_layers", stub, graded, K).functions == []
    solution = (SOLUTIONS_NNDL / "conv_layers.py").read_text()
    plain = {f.name: f for f in module_functions("conv_layers", solution, graded, K).functions}
    assert set(plain) == {"conv_layers." + n for n in graded["conv_layers"]}
    # a copy with other names, other comments and docstrings: the same fingerprint
    tree = ast.parse(solution)
    renamed = ast.unparse(calibration.synthetic._Renamer(__import__("random").Random(1))
                          .visit(tree))
    assert "A naive implementation" in renamed
    renamed = renamed.replace("A naive implementation", "# not a comment: my own implementation")
    other = {f.name: f for f in module_functions("conv_layers", renamed, graded, K).functions}
    for name, function in plain.items():
        assert list(function.hashes) == list(other[name].hashes), name
    # the stub's provided lines are not in what the student wrote: the reference body
    # without them is shorter than the whole function's tokens
    forward = plain["conv_layers.conv_forward_naive"]
    first = forward.source.splitlines()
    assert first[0].startswith("def conv_forward_naive")
    marked = {line for line in forward.lines}
    for number, text in enumerate(first, start=1):
        if "YOUR CODE HERE" in text or text.strip().startswith(("#", '"""', "- ")) or \
                "whole_number(conv_param['pad']" in text or text.strip() == "return out, cache":
            assert number not in marked, text


@pytest.mark.parametrize("text, why", [
    ("def conv_forward_naive(x, w, b, conv_param):\n    return (\n", "line"),
    ("def conv_forward_naive(x, w, b, conv_param):\n    out = " + "-" * 100000 + "1\n",
     "nested too deeply"),
    ("def conv_forward_naive(x, w, b, conv_param):\n    out = " + "+".join(["x"] * 200000)
     + "\n", "nested too deeply"),
])
def test_a_module_that_does_not_parse_is_said_not_a_crash(text, why):
    result = module_functions("conv_layers", text, release_graded(), K)
    assert result.functions == [] and why in result.unparsed


def test_a_copy_that_does_not_parse_is_compared_by_tokens_and_says_so(tmp_path):
    original = synthetic.CONV_SOURCES["loops"].read_text()
    broken = original + "\ndef unfinished(:\n    pass\n"
    folders = {"original": str(synthetic.write_student(tmp_path / "o", original,
                                                       synthetic.FINAL_CELLS["loops"])),
               "broken": str(synthetic.write_student(tmp_path / "b", broken,
                                                     synthetic.FINAL_CELLS["strided"]))}
    grades = tmp_path / "grades"
    grades.mkdir()
    run = run_similarity(str(grades), folders, POLICY)
    assert run.flagged == [("broken", "original")]
    pair = run.pairs[0]
    assert "nndl/conv_layers.py (line" in pair.by_tokens and "does not parse" in pair.by_tokens
    assert "does not parse as Python: compared by tokens only" in " ".join(run.problems["broken"])
    with open(grades / "similarity.csv") as f:
        row = next(csv.DictReader(f))
    assert row["measured_by"].startswith("whole files (nndl/conv_layers.py (line")


def _extract(hashes, functions=()):
    hashes = np.asarray(hashes, np.int64)
    return Extract(code="x\n" * 10, hashes=hashes, positions=np.arange(len(hashes)) * 30,
                   coverage=POLICY.noise_tokens * len(hashes), functions=list(functions))


def test_passages_in_many_submissions_count_for_no_one():
    """Ten students share a template (hashes 1-20); two also share their own code (100-119)."""
    policy = replace(POLICY, common_share=0.1, common_min=4, min_shared_tokens=1)
    template = list(range(1, 21))
    extracts = [_extract(template + [1000 * (i + 1) + j for j in range(20)]) for i in range(10)]
    extracts[3] = _extract(template + list(range(100, 120)))
    extracts[7] = _extract(template + list(range(100, 120)))
    pairs = compare.code_pairs(extracts, policy)
    assert [(p.a, p.b) for p in pairs] == [(3, 7)]     # the template pairs no one
    assert pairs[0].similarity_a == pytest.approx(1.0)  # the template left the denominator
    # without the rule, every pair shares the template (the old report)
    plain = compare.code_pairs(extracts, replace(policy, common_min=10 ** 6))
    assert len(plain) == 45


def test_the_share_and_the_minimum_are_both_needed():
    policy = replace(POLICY, common_share=0.1, common_min=4)
    owner = np.array([0, 1, 2, 0, 1, 2, 3])
    ids = np.array([0, 0, 0, 1, 1, 1, 1])
    # id 0 in 3 of 10 (over 10%, under the minimum), id 1 in 4 of 10
    assert list(compare.common_mask(ids, owner, 2, 10, policy)) == [False, True]
    # 4 of 50 is under 10%: not common
    assert list(compare.common_mask(ids, owner, 2, 50, policy)) == [False, False]
    # corpus entries (owners from n_class on) never make a passage common
    corpus_owner = np.array([0, 1, 2, 0, 4, 5, 6])     # id 1: one student, three corpus
    assert list(compare.common_mask(ids, corpus_owner, 2, 4, replace(policy, common_min=3))) \
        == [True, False]


def test_calibration_no_honest_pair_and_every_disguised_copy(calibrated):
    results, planted = calibrated
    run, (honest_flagged, honest, copies_flagged, copies, found, _, _) = \
        results["graded functions (the spec's defaults)"]
    assert honest > 100 and copies == len(calibration.COPIES) == found
    assert honest_flagged == 0
    assert copies_flagged == copies
    assert {tuple(sorted(p)) for p in run.flagged} == planted
    # shares are shares: what is common leaves the numerator and the denominator alike
    assert all(0 <= x <= 1 for p in run.pairs for x in (p.similarity_a, p.similarity_b,
                                                        p.function_a, p.function_b))
    # the old measure flags honest pairs that share the older release
    _, old = results["whole files, nothing common (as before)"]
    assert old[0] > 0


def test_the_report_says_which_functions_match(calibrated):
    results, _ = calibrated
    run, _ = results["graded functions (the spec's defaults)"]
    pair = next(p for p in run.pairs if {run.ids[p.a], run.ids[p.b]} ==
                {"classic", "copy_comprehensions"})
    assert pair.flagged and not pair.by_tokens
    assert "`classic` | `copy_comprehensions`" in run.section
    assert "graded functions" in run.section


def test_prior_work_is_compared_with_everyone_but_itself(tmp_path):
    loops = synthetic.CONV_SOURCES["loops"].read_text()
    reference = synthetic.CONV_SOURCES["reference"].read_text()
    corpus = tmp_path / "prior"
    synthetic.write_student(corpus / "2023_public", loops, synthetic.FINAL_CELLS["loops"])
    synthetic.write_student(corpus / "2023_twin", loops, synthetic.FINAL_CELLS["loops"])
    students = {
        "alice": synthetic.write_student(tmp_path / "alice", calibration.renamed(loops, 3),
                                         calibration.final_cell(1)),
        "bob": synthetic.write_student(tmp_path / "bob", reference, calibration.final_cell(2)),
    }
    prior = prior_sources(str(corpus))
    assert set(prior) == {"prior:2023_public", "prior:2023_twin"}
    grades = tmp_path / "grades"
    grades.mkdir()
    run = run_similarity(str(grades), {k: str(v) for k, v in students.items()}, POLICY,
                         prior=prior)
    assert sorted(run.flagged) == [("alice", "prior:2023_public"), ("alice", "prior:2023_twin")]
    assert not [p for p in run.pairs if run.ids[p.a].startswith("prior:")
                and run.ids[p.b].startswith("prior:")]
    assert "| `alice` | `prior:2023_public` |" in run.section
    assert "compared with 2 prior submissions" in run.section


def test_similarity_cli_takes_a_prior_work_folder(tmp_path):
    import json
    import subprocess
    import sys
    loops = synthetic.CONV_SOURCES["loops"].read_text()
    corpus = tmp_path / "prior"
    synthetic.write_student(corpus / "public", loops, synthetic.FINAL_CELLS["loops"])
    alice = synthetic.write_student(tmp_path / "alice", calibration.renamed(loops, 4),
                                    calibration.final_cell(3))
    bob = synthetic.write_student(tmp_path / "bob", synthetic.CONV_SOURCES["vectorised"]
                                  .read_text(), calibration.final_cell(4))
    grades = tmp_path / "grades"
    grades.mkdir()
    (grades / "submissions.json").write_text(json.dumps({"alice": str(alice), "bob": str(bob)}))
    command = [sys.executable, "-m", "autograder", "similarity", str(grades), "--jobs", "1"]
    proc = subprocess.run(command + ["--against", str(corpus)], capture_output=True, text=True,
                          cwd=str(synthetic.ROOT), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "| `alice` | `prior:public` |" in proc.stdout
    missing = subprocess.run(command + ["--against", str(tmp_path / "nowhere")],
                             capture_output=True, text=True, cwd=str(synthetic.ROOT), timeout=60)
    assert missing.returncode == 2 and "is not a folder" in missing.stderr


@pytest.mark.parametrize("table, message", [
    ({"common_share": 0}, "common_share"),
    ({"common_min": 1}, "common_min"),
    ({"function_tokens": 0}, "function_tokens"),
    ({"min_function_tokens": -1}, "min_function_tokens"),
    ({"against": 3}, "must be a str"),
    ({"common_count": 3}, "no key"),
])
def test_spec_validates_the_new_keys(table, message):
    with pytest.raises(SpecError, match=message):
        parse_spec({"settings": {"visible_only": True}, "item": [], "similarity": table})


def test_similarity_html_shows_matching_functions_side_by_side_in_chromium(calibrated,
                                                                           calibration_dir,
                                                                           tmp_path):
    import re
    import subprocess
    from tests.autograder.report import test_class_report as browser
    page = (calibration_dir / "grades-0" / "similarity.html").read_text()
    assert page.count('<section class="pair"') == len(calibration.COPIES)
    if browser.CHROMIUM is None:
        pytest.skip("needs a headless Chromium")
    checked = tmp_path / "checked.html"
    checked.write_text(page.replace("</body>", SIDE_BY_SIDE_CHECK + "</body>"))
    proc = subprocess.run([browser.CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--window-size=1400,900", "--virtual-time-budget=10000",
                           "--dump-dom", checked.as_uri()],
                          capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="side-check">([^<]*)</pre>', proc.stdout)
    assert found, proc.stderr[-2000:]
    rows = [row.split(",") for row in found.group(1).split(";")]
    assert len({row[0] for row in rows}) == len(calibration.COPIES)   # every flagged pair
    names = {row[1] for row in rows}
    assert "conv_layers.conv_forward_naive" in names and "conv_layers.max_pool_forward_naive" \
        in names
    for section, function, beside, marks_a, marks_b, wrong in rows:
        assert beside == "1", (section, function)
        assert int(marks_a) > 0 and int(marks_b) > 0, (section, function)
        assert wrong == "0", (section, function)   # release code and provided text unmarked
