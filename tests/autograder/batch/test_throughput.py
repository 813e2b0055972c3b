"""The benchmark's pure parts: figures of a class run from its reports, the table, the
projection, and the spec it grades with."""
import math
import re

import pytest

from autograder.benchmark import grading as benchmark
from autograder.batch import throughput
from autograder.spec import SPEC_PATH, load_spec


def report(total, timing, accuracy, scores=((4, 4), (20, 20), (8, 8))):
    """A results.json dict: a timing item, an accuracy item and a model_forward item."""
    kinds = ("timing", "accuracy", "model_forward")
    seconds = (timing, accuracy, 0.5)
    return {"execution_time": total, "score": sum(s for s, _ in scores), "tests": [
        {"score": s, "max_score": m, "extra_data": {"item": kind, "kind": kind, "seconds": sec}}
        for (s, m), kind, sec in zip(scores, kinds, seconds)]}


def rows_of(table):
    """{label: [cells]} of comparison_table's text (cells are split at runs of spaces)."""
    return {re.split(r"\s{2,}", line.strip())[0]: line.split() for line in table.splitlines()}


def test_figures_are_medians_per_part_and_the_rate_over_the_wall_time():
    reports = [report(10.0, 2.0, 5.0), report(6.0, 1.0, 3.0), report(8.0, 1.5, 4.5)]
    figures = throughput.class_figures(reports, wall_seconds=30.0, peak_bytes=3 * 2 ** 30)
    assert figures.submissions == 3
    assert figures.median_seconds == 8.0
    assert figures.median_timing == 1.5 and figures.median_accuracy == 4.5
    # the rest of each: 3.0, 2.0, 2.0 -> median 2.0
    assert figures.median_rest == 2.0
    assert figures.per_minute == pytest.approx(6.0)          # 3 in half a minute
    assert figures.projected_minutes == pytest.approx(700 / 6.0)
    assert figures.peak_gb == pytest.approx(3.0)
    assert figures.full_scores == 3
    assert figures.cpu_seconds is None and figures.idle_minutes is None
    measured = throughput.class_figures(reports, 30.0, 0, cpu_seconds=36.0, cores=2)
    assert measured.cpu_seconds == pytest.approx(12.0)
    assert measured.idle_minutes == pytest.approx(700 * 12.0 / 2 / 60)   # 70 min


def test_full_scores_ignore_the_accuracy_item_only():
    lost_accuracy = report(5.0, 1.0, 2.0, scores=((4, 4), (0, 20), (8, 8)))
    lost_timing = report(5.0, 1.0, 2.0, scores=((3, 4), (20, 20), (8, 8)))
    assert throughput.full_but_accuracy(lost_accuracy)
    assert not throughput.full_but_accuracy(lost_timing)
    assert not throughput.full_but_accuracy({"tests": []})
    assert throughput.class_figures([lost_accuracy, lost_timing], 10.0, 0).full_scores == 1


def test_projection_and_empty_runs():
    assert throughput.projected_minutes(35.0) == pytest.approx(20.0)
    assert throughput.projected_minutes(35.0, size=70) == pytest.approx(2.0)
    assert math.isinf(throughput.projected_minutes(0.0))
    with pytest.raises(ValueError):
        throughput.class_figures([], 1.0, 0)


def test_the_table_puts_each_figure_beside_the_baseline_with_the_ratio():
    before = throughput.class_figures([report(10.0, 2.0, 5.0)], 60.0, 2 ** 30)
    after = throughput.class_figures([report(4.0, 1.0, 2.0, scores=((4, 4), (0, 20), (7, 8)))],
                                     30.0, 2 ** 29)
    table = throughput.comparison_table(before, after, jobs=2)
    lines = rows_of(table)
    assert lines["seconds per submission (median)"][-3:] == ["10.00", "4.00", "0.40x"]
    assert lines["timing item"][-3:] == ["2.00", "1.00", "0.50x"]
    assert lines["class throughput (submissions/min)"][-3:] == ["1.0", "2.0", "2.00x"]
    assert lines["projected time for 700 (min)"][-3:] == ["700.0", "350.0", "0.50x"]
    assert lines["peak memory, grader + workers (GB)"][-3:] == ["1.00", "0.50", "0.50x"]
    assert lines["submissions full on every item but accuracy"][-2:] == ["1/1", "0/1"]
    cpu_row = lines["CPU seconds per submission, grader + workers"]
    assert cpu_row[-3:] == ["-", "-", "-"]   # not measured in either run
    timed = throughput.class_figures([report(4.0, 1.0, 2.0)], 30.0, 0, cpu_seconds=3.0)
    rows = rows_of(throughput.comparison_table(before, timed, jobs=2))
    assert rows["CPU seconds per submission, grader + workers"][-3:] == ["-", "3.00", "-"]
    assert rows["projected for 700 on idle cores (min)"][-1] == "-"
    alone = throughput.comparison_table(None, after, jobs=2)
    assert "seconds per submission (median)" in alone and "0.40x" not in alone


def test_the_benchmark_spec_scales_the_accuracy_thresholds_only(tmp_path):
    path = benchmark.scaled_spec(SPEC_PATH, str(tmp_path / "spec.toml"))
    kit, scaled = load_spec(SPEC_PATH), load_spec(path)
    accuracy = scaled.item(benchmark.ACCURACY_ID)
    assert float(accuracy.extras["full_credit_at"]) == 0.18
    assert float(accuracy.extras["zero_credit_at"]) == 0.10
    for item in kit.items:
        if item.id != benchmark.ACCURACY_ID:
            assert scaled.item(item.id) == item


def test_a_benchmark_class_is_built_from_its_own_checkouts_reference(tmp_path):
    # The baseline's class comes from the baseline's solutions and release, not this kit's:
    # a reference that calls a cs231n function only its own kit has grades there.
    checkout = tmp_path / "older-kit"
    (checkout / "solutions" / "nndl").mkdir(parents=True)
    (checkout / "solutions" / "nndl" / "layers.py").write_text("OLDER = True\n")
    # the reference's instructor-only compiled kernels, where built: no student file
    (checkout / "solutions" / "nndl" / "_reference_kernels.cpython-311-x86_64-linux-gnu.so"
     ).write_bytes(b"\x7fELF\xff\xfe")
    (checkout / "release").mkdir()
    for name in benchmark.NOTEBOOKS:
        (checkout / "release" / name).write_text('{"older": "%s"}' % name)
    model = tmp_path / "cnn_model.npz"
    model.write_bytes(b"model")
    classroom = tmp_path / "class"
    classroom.mkdir()
    benchmark.correct_variant(str(classroom), 0, str(model), str(checkout))
    student = classroom / "student_000"
    assert sorted(p.name for p in (student / "nndl").iterdir()) == ["layers.py"]
    assert "OLDER = True" in (student / "nndl" / "layers.py").read_text()
    for name in benchmark.NOTEBOOKS:
        assert (student / name).read_text() == '{"older": "%s"}' % name
    benchmark.correct_variant(str(classroom), 1, str(model), str(checkout))
    assert (classroom / "student_001.zip").is_file()  # odd indices zipped
