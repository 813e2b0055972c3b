"""Reports: Gradescope fields, escaping, the one-screen summary, atomic writes."""
import json
import os

import pytest

from autograder.report import write_reports
from autograder.results.store import RESULTS_FILE
from autograder.files import atomic
from autograder.report.feedback import html_page, markdown, summary
from autograder.results.schema import dumps, results_json, validate
from autograder.results.model import GradeResult, ItemResult


def sample(score_a=3.0, output_b="<script>alert(1)</script> & more"):
    return GradeResult(
        submission="alice.zip",
        items=[ItemResult("conv_layers.conv_forward_naive.forward", "conv forward", score_a, 3.0,
                          score_a == 3.0, "", "visible", "forward_value", 0.1),
               ItemResult("cnn.ThreeLayerConvNet.accuracy", "cnn.ThreeLayerConvNet.accuracy", 11.5,
                          23.0, False, output_b, "after_published", "accuracy", 2.0)],
        problems=["notebook CNN.ipynb is missing"], notes=["ignored zip entry '../x'"],
        seed=987654321, execution_time=4.2, sandbox={"level": "bwrap"},
        extra={"accuracy": {"val": float("nan")}})


def test_results_json_has_the_gradescope_fields():
    data = json.loads(dumps(sample()))
    assert validate(data) == []
    assert data["score"] == 14.5 and data["max_score"] == 26
    first, second = data["tests"]
    assert first == {"name": "conv forward (conv_layers.conv_forward_naive.forward)", "score": 3,
                     "max_score": 3, "status": "passed", "output": "", "visibility": "visible",
                     "extra_data": {"item": "conv_layers.conv_forward_naive.forward",
                                    "kind": "forward_value", "seconds": 0.1, "groups": []}}
    assert second["status"] == "failed" and second["visibility"] == "after_published"
    assert data["extra_data"]["seed"] == 987654321 and data["extra_data"]["accuracy"]["val"] is None
    assert "987654321" not in data["output"]


def test_validate_catches_broken_results():
    data = results_json(sample())
    data["tests"][0]["status"] = "ok"
    data["tests"][1]["score"] = 99
    del data["tests"][0]["extra_data"]
    problems = validate(data)
    assert any("status" in p for p in problems)
    assert any("outside" in p for p in problems)
    assert any("extra_data" in p for p in problems)
    assert any("not the sum" in p for p in problems)


def test_feedback_escapes_student_text_and_hides_the_seed():
    page = html_page(sample())
    assert "<script>" not in page and "&lt;script&gt;" in page
    text = markdown(sample())
    assert "14.5 / 26" in text and "hidden until grades are published" in text
    assert "987654321" not in text + page


def test_summary_fits_one_screen():
    result = sample()
    result.items = result.items * 20
    result.problems = ["p%d" % i for i in range(20)]
    lines = summary(result).splitlines()
    assert len(lines) <= 50 and all(len(line) <= 100 for line in lines[1:])
    assert lines[0].startswith("alice.zip:")


def test_reports_are_written_atomically(tmp_path, monkeypatch):
    write_reports(sample(), tmp_path)
    before = (tmp_path / RESULTS_FILE).read_text()
    assert sorted(os.listdir(tmp_path)) == ["feedback.html", "feedback.md", "results.json"]

    def crash(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(OSError):
        write_reports(sample(score_a=0.0), tmp_path)
    assert (tmp_path / RESULTS_FILE).read_text() == before
    assert sorted(os.listdir(tmp_path)) == ["feedback.html", "feedback.md", "results.json"]


def test_summary_lines_are_cut_at_word_boundaries_never_inside_a_number():
    from autograder.report.feedback import fit
    line = "  failed    0/20  cnn.ThreeLayerConvNet.accuracy  validation accuracy 0.241, held-out accuracy 0.2437"
    short = fit(line, 90)
    assert len(short) <= 90 and short.endswith("...")
    assert short[:-3].rstrip().split()[-1] in line.split()   # a whole word before the cut
    assert fit("short line", 90) == "short line"
    assert len(fit("x" * 200, 100)) == 100
    result = sample()
    result.items[0].output = "held-out accuracy %s of the images" % ("0.24375 " * 30)
    result.items[0].score = 0.0
    for out_line in summary(result).splitlines():
        assert len(out_line) <= 100
        words = out_line.rstrip(".").split()
        assert not words or not words[-1].startswith("0.2") or words[-1] == "0.24375", out_line
