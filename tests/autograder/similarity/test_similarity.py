"""The similarity report: planted copies flagged, independent work and stubs not, safely read."""
import csv
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from autograder.similarity import compare
from autograder.similarity.extract import extract_all
from autograder.similarity.run import SOURCES_FILE, run_similarity
from autograder.spec import load_spec
from autograder.submission import stage
from tests.autograder.similarity import synthetic

POLICY = load_spec().similarity


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    folders, code_pairs, model_pairs = synthetic.make_class(folder / "submissions")
    grades = folder / "grades"
    grades.mkdir()
    run = run_similarity(str(grades), {k: str(v) for k, v in folders.items()}, POLICY, jobs=2)
    return folders, code_pairs, model_pairs, grades, run


def test_disguises_really_change_the_text():
    """The copies are not the original text: names, order and comments all differ."""
    original = synthetic.CONV_SOURCES["loops"].read_text()
    copy = synthetic.disguise_module(original, 0)
    assert "def conv_forward_naive(x, w, b, conv_param)" in original
    assert "conv_param)" not in copy.split("def conv_forward_naive(")[1].splitlines()[0]
    order = lambda text: [line.split("(")[0] for line in text.splitlines()
                          if line.startswith("def ")]
    assert sorted(order(copy)) == sorted(order(original)) and order(copy) != order(original)
    assert "# my own helper" in copy and "# my own helper" not in original
    compile(copy, "copy.py", "exec")  # still a valid module


def test_exactly_the_planted_code_pairs_are_flagged(planted):
    folders, code_pairs, _, _, run = planted
    assert set(run.flagged) == code_pairs
    for pair in run.pairs:
        if pair.flagged:
            assert pair.similarity_a > 0.7 and pair.similarity_b > 0.7


def test_independent_implementations_stay_below_the_threshold(planted):
    _, _, _, _, run = planted
    independent = set(synthetic.CONV_SOURCES)
    for pair in run.pairs:
        if {run.ids[pair.a], run.ids[pair.b]} <= independent:
            assert pair.similarity < POLICY.threshold, (run.ids[pair.a], run.ids[pair.b])


def test_stubs_alone_score_zero(planted):
    _, _, _, _, run = planted
    stub_ids = {"stubs_1", "stubs_2", "model_copy", "model_nudged"}
    for pair in run.pairs:
        assert not {run.ids[pair.a], run.ids[pair.b]} & stub_ids, \
            "the release's stubs and cells count as boilerplate"


def test_identical_and_near_identical_models_are_flagged(planted):
    _, _, model_pairs, _, run = planted
    found = {tuple(sorted((run.ids[m.a], run.ids[m.b]))): m for m in run.model_pairs}
    assert set(found) == {tuple(sorted(p)) for p in model_pairs}
    assert found[("model_copy", "strided")].identical
    near = found[("model_nudged", "reference")]
    assert not near.identical and 0 < near.relative_distance <= POLICY.model_rel_distance


def test_csv_html_and_summary_section(planted):
    _, code_pairs, _, grades, run = planted
    with open(grades / "similarity.csv") as f:
        rows = list(csv.DictReader(f))
    flagged = {tuple(sorted((r["submission_a"], r["submission_b"]))) for r in rows
               if r["flagged"] == "1"}
    assert flagged == code_pairs
    for row in rows:
        if row["flagged"] == "1":
            assert int(row["shared_lines_a"]) > 20 and int(row["shared_lines_b"]) > 20
            assert float(row["similarity_a_in_b"]) > 0.7
    page = (grades / "similarity.html").read_text()
    assert page.count("<mark>") > 10 and "copy_of_loops" in page
    for a, b in code_pairs:
        assert "%s and %s" % (a, b) in page or "%s and %s" % (b, a) in page
    assert "## Similar submissions" in run.section
    assert "`model_copy` and `strided`: identical" in run.section


def test_student_text_in_the_page_is_escaped(tmp_path):
    folders = {}
    hostile = "    label = '<script>alert(1)</script>'\n"
    conv = synthetic.CONV_SOURCES["loops"].read_text()
    # in a graded function (shown side by side) and in the notebook cell
    conv = conv.replace("    N, C, H, W = x.shape\n", hostile + "    N, C, H, W = x.shape\n", 1)
    assert hostile in conv
    for n in range(2):
        cell = "model = '<script>alert(1)</script>'\n" + synthetic.FINAL_CELLS["loops"]
        folders["s%d" % n] = str(synthetic.write_student(tmp_path / ("s%d" % n), conv, cell))
    grades = tmp_path / "grades"
    grades.mkdir()
    run = run_similarity(str(grades), folders, POLICY)
    assert run.flagged == [("s0", "s1")]
    page = (grades / "similarity.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_solution_cells_count_and_provided_cells_do_not(tmp_path):
    """Two students who wrote only the final notebook cell, the same one, renamed."""
    stub = (synthetic.RELEASE / "nndl" / "conv_layers.py").read_text()
    long_cell = "".join(synthetic.FINAL_CELLS[name] for name in synthetic.FINAL_CELLS)
    a = synthetic.write_student(tmp_path / "a", stub, long_cell)
    b = synthetic.write_student(tmp_path / "b", stub, synthetic.disguise_cell(long_cell, 3))
    roots = []
    for folder in (a, b):
        stage(folder, tmp_path / ("staged_" + folder.name))
        roots.append(str(tmp_path / ("staged_" + folder.name)))
    extracts = extract_all(roots, POLICY)
    assert all(e.coverage > 0 for e in extracts)
    assert all("CNN.ipynb, solution cell 1" in e.code for e in extracts)
    assert all("Load the (preprocessed) CIFAR10 data" not in e.code for e in extracts)
    pairs = compare.code_pairs(extracts, replace(POLICY, min_shared_tokens=50))
    assert pairs and pairs[0].similarity > 0.7


def test_hostile_files_are_problems_not_crashes(tmp_path):
    """A notebook nested too deeply, a model that is not an npz, a symlink to a secret."""
    secret = tmp_path / "secret.py"
    secret.write_text("SECRET = 'the reference'\n" * 100)
    good = synthetic.write_student(tmp_path / "good", synthetic.CONV_SOURCES["loops"].read_text(),
                                   synthetic.FINAL_CELLS["loops"])
    bad = synthetic.write_student(tmp_path / "bad", synthetic.CONV_SOURCES["loops"].read_text(),
                                  synthetic.FINAL_CELLS["loops"])
    (bad / "CNN.ipynb").write_text("[" * 200000 + "]" * 200000)
    (bad / "cnn_model.npz").write_bytes(b"PK\x03\x04 not a zip at all" * 100)
    (bad / "nndl" / "extra.py").symlink_to(secret)
    grades = tmp_path / "grades"
    grades.mkdir()
    run = run_similarity(str(grades), {"good": str(good), "bad": str(bad)}, POLICY)
    problems = " ".join(run.problems.get("bad", []))
    assert "CNN.ipynb" in problems and "cnn_model.npz" in problems
    assert "SECRET" not in (grades / "similarity.html").read_text()
    assert run.flagged == [("bad", "good")]  # the code that could be read is still compared


def test_an_unstageable_submission_is_a_problem(tmp_path):
    bogus = tmp_path / "bogus.zip"
    bogus.write_bytes(b"not a zip")
    good = synthetic.write_student(tmp_path / "good", synthetic.CONV_SOURCES["loops"].read_text(),
                                   synthetic.FINAL_CELLS["loops"])
    grades = tmp_path / "grades"
    grades.mkdir()
    run = run_similarity(str(grades), {"bogus": str(bogus), "good": str(good)}, POLICY)
    assert "could not be staged" in " ".join(run.problems["bogus"])


def test_pair_overlap_matches_copydetect_compare_files(planted):
    """The vectorised overlap gives copydetect.compare_files's numbers on the same fingerprints."""
    from copydetect.detector import CodeFingerprint, compare_files
    folders, _, _, _, run = planted
    ids = ["copy_of_loops", "loops", "vectorised"]
    roots = []
    for sid in ids:
        root = Path(str(folders[sid]) + "_staged")
        stage(folders[sid], root)
        roots.append(str(root))
    extracts = extract_all(roots, POLICY)
    fingerprints = []
    for extract in extracts:
        fp = CodeFingerprint.__new__(CodeFingerprint)
        fp.k, fp.token_coverage = POLICY.noise_tokens, extract.coverage
        fp.hashes = set(extract.hashes.tolist())
        fp.hash_idx = {}
        for h, p in zip(extract.hashes.tolist(), extract.positions.tolist()):
            fp.hash_idx.setdefault(h, []).append(p)
        fp.filtered_code, fp.offsets = "x" * max(1, extract.coverage), extract.offsets
        fingerprints.append(fp)
    ours = {(p.a, p.b): p for p in compare.code_pairs(extracts, POLICY)}
    assert len(ours) == 3
    for (a, b), pair in ours.items():
        tokens_a, (sim_a, sim_b), (slices_a, slices_b) = compare_files(fingerprints[a],
                                                                       fingerprints[b])
        assert pair.similarity_a == pytest.approx(sim_a) and pair.similarity_b == pytest.approx(sim_b)
        assert pair.tokens_a == tokens_a
        # shared lines: the lines copydetect's own (raw) slices touch
        assert pair.lines_a == compare.lines_in(extracts[a].code, slices_a)
        assert pair.lines_b == compare.lines_in(extracts[b].code, slices_b)
        assert pair.lines_a > 0


def test_cli_reads_the_recorded_sources(planted, tmp_path):
    folders, code_pairs, _, _, _ = planted
    grades = tmp_path / "grades"
    grades.mkdir()
    (grades / SOURCES_FILE).write_text(json.dumps({k: str(v) for k, v in folders.items()}))
    (grades / "summary.md").write_text("# Class summary\n\nGraded: 10 of 10 submissions\n")
    proc = subprocess.run([sys.executable, "-m", "autograder", "similarity", str(grades),
                           "--jobs", "2"], capture_output=True, text=True,
                          cwd=str(synthetic.ROOT), timeout=300)
    assert proc.returncode == 0, proc.stderr
    summary = (grades / "summary.md").read_text()
    assert summary.startswith("# Class summary") and summary.count("## Similar submissions") == 1
    for a, b in code_pairs:
        assert "| `%s` | `%s` |" % (a, b) in summary
    rerun = subprocess.run([sys.executable, "-m", "autograder", "similarity", str(grades)],
                           capture_output=True, text=True, cwd=str(synthetic.ROOT), timeout=300)
    assert rerun.returncode == 0
    assert (grades / "summary.md").read_text().count("## Similar submissions") == 1


def test_cli_without_a_class_run_is_a_usage_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "autograder", "similarity", str(tmp_path)],
                          capture_output=True, text=True, cwd=str(synthetic.ROOT), timeout=60)
    assert proc.returncode == 2 and "class run" in proc.stderr


@pytest.mark.parametrize("table, message", [
    ({"threshold": 1.5}, "threshold"),
    ({"threshold": 0.3, "list_from": 0.4}, "list_from"),
    ({"noise_tokens": 40, "guarantee_tokens": 30}, "noise_tokens"),
    ({"threshold": "high"}, "must be a float"),
    ({"treshold": 0.5}, "no key"),
])
def test_spec_validates_the_similarity_table(table, message):
    from autograder.spec import SpecError, parse_spec
    with pytest.raises(SpecError, match=message):
        parse_spec({"settings": {"visible_only": True}, "item": [], "similarity": table})
