"""The charges of the fairness suite's bugs (run.py), on hand-made results.json files.

A bug's charge is the points it lost / the points of the items it touches; a bug labelled
`confined_to` may cost at most its groups' points over those items, one labelled `feature`
at most the largest points of that group on one item (charged once). These tests need no
grader: they write results.json files as the grader with case groups writes them.
"""
import json

import pytest

from tests.fairness import run
from tests.fairness import variants as v

MAX = {v.CONV_F: 3, v.CONV_FS: 6, v.CONV_B: 12, v.POOL_F: 2, v.POOL_FS: 6, v.POOL_B: 8,
       v.BN_TRAIN: 6, v.BN_TEST: 5, v.BN_B: 8, v.RELU_B: 2, v.SOFTMAX: 2, v.CNN_F: 8,
       v.CNN_G: 8, v.CNN_T: 4}


def item_groups(item, failed=(), not_charged=()):
    """extra_data.groups of an item: core 2/3 of its points, the other groups sharing the rest
    equally (one group "all" for an item without groups); `failed` groups earn nothing."""
    names = v.groups_of(item)
    weights = {"all": 1.0} if names == ("all",) else dict(
        {"core": 2 / 3}, **{name: 1 / 3 / (len(names) - 1) for name in names if name != "core"})
    groups = []
    for name in names:
        points = MAX[item] * weights[name]
        status = "failed" if name in failed else "not_charged" if name in not_charged else "passed"
        groups.append({"name": name, "weight": round(weights[name], 3), "points": points,
                       "earned": 0.0 if status == "failed" else points, "cases_passed": 1,
                       "cases_total": 1, "status": status, "cause": "", "hint": ""})
    return groups


def score_of(groups):
    return sum(g["earned"] for g in groups if g["status"] != "not_charged") + \
        sum(g["points"] for g in groups if g["status"] == "not_charged")


def write_results(grades, variant, failed=None, not_charged=None, with_groups=True, output=""):
    """grades/<variant>/results.json: every item at full marks but the failed groups
    ({item: (group, ...)}; a group "all" fails the whole item)."""
    failed, not_charged = failed or {}, not_charged or {}
    tests = []
    for item in v.ITEMS:
        groups = item_groups(item, failed.get(item, ()), not_charged.get(item, ()))
        extra = {"item": item}
        if with_groups:
            extra["groups"] = groups
        tests.append({"name": item, "score": score_of(groups), "max_score": MAX[item],
                      "output": output if item in failed else "", "extra_data": extra})
    folder = grades / variant.name
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps({"tests": tests, "output": ""}))


def outcome(tmp_path, name, **kwargs):
    variant = v.by_name(name)
    write_results(tmp_path, variant, **kwargs)
    return run.read_outcome(tmp_path, variant)


def test_the_groups_are_read_from_results_json(tmp_path):
    o = outcome(tmp_path, "conv_backward_crop_negative_pad", failed={v.CONV_B: ("no_padding",)},
                output="dx has shape (1, 2, 0, 0), expected (1, 2, 6, 9)")
    assert [g["name"] for g in o.groups[v.CONV_B]] == list(v.CONV_GROUPS)
    assert [g["name"] for g in o.groups[v.CNN_T]] == ["all"]
    assert o.group_points(v.CONV_B, "no_padding") == pytest.approx(1.0)
    assert o.group_points(v.CONV_B, "batchnorm") == 0.0


def test_a_bug_confined_to_its_groups_is_charged_their_points(tmp_path):
    o = outcome(tmp_path, "conv_backward_crop_negative_pad", failed={v.CONV_B: ("no_padding",)},
                output="dx has shape (1, 2, 0, 0), expected (1, 2, 6, 9)")
    assert o.points_lost == pytest.approx(1.0) and o.points_touched == 12
    assert o.charge == pytest.approx(1 / 12)
    assert o.allowance == pytest.approx(1.0) and o.overcharge == 0.0
    assert o.caught and o.fair
    name, lost, touched, share, allowance, over = run.charges([o])[0]
    assert (name, touched, over) == ("conv_backward_crop_negative_pad", 12, 0.0)
    assert (lost, share, allowance) == pytest.approx((1.0, 1 / 12, 1.0))


def test_a_confined_bug_costing_more_than_its_groups_fails(tmp_path):
    o = outcome(tmp_path, "conv_backward_crop_negative_pad",
                failed={v.CONV_B: ("core", "no_padding")},
                output="dx has shape (1, 2, 0, 0), expected (1, 2, 6, 9)")
    assert o.points_lost == pytest.approx(9.0) and o.overcharge == pytest.approx(8.0)
    assert o.caught and not o.fair   # caught, but charged beyond its group: misgraded
    assert run.figures([o]) == ("fairness: 0/0 correct at full credit, 1/1 bugs caught, "
                                "1 false deductions (8 points)")
    (name, expected, got, _), = run.misgraded([o])
    assert name == "conv_backward_crop_negative_pad"
    assert "costs at most its groups no_padding" in expected
    assert "8 beyond its groups no_padding (1 points)" in got


def test_a_missing_feature_is_charged_once_across_items(tmp_path):
    # the grader charges the batchnorm group on the forward item and leaves the gradient's
    # uncharged: within the allowance (the largest batchnorm group of the two items)
    once = outcome(tmp_path / "once", "cnn_without_batchnorm",
                   failed={v.CNN_F: ("batchnorm",)}, not_charged={v.CNN_G: ("batchnorm",)},
                   output="params has no key gamma1 (batchnorm)")
    forward_bn, gradient_bn = 8 / 3 / 4, 8 / 3 / 2
    assert once.allowance == pytest.approx(max(forward_bn, gradient_bn))
    assert once.points_lost == pytest.approx(forward_bn) and once.overcharge == 0.0
    assert once.charge == pytest.approx(forward_bn / 16) and once.fair
    # charged on both items: the excess over one charge is an overcharge
    twice = outcome(tmp_path / "twice", "cnn_without_batchnorm",
                    failed={v.CNN_F: ("batchnorm",), v.CNN_G: ("batchnorm",)},
                    output="params has no key gamma1 (batchnorm)")
    assert twice.points_lost == pytest.approx(forward_bn + gradient_bn)
    assert twice.overcharge == pytest.approx(forward_bn) and not twice.fair


def test_without_groups_in_the_results_a_labelled_bug_has_no_allowance(tmp_path):
    # a grader before the case groups: the labelled bugs' charges exceed their groups (expected)
    o = outcome(tmp_path, "pool_output_size_rounds_up", failed={v.POOL_FS: ("non_tiling",)},
                with_groups=False, output="out has shape (2, 2, 4, 4), expected (2, 2, 3, 3)")
    assert o.groups == {} and o.allowance == 0.0
    assert o.overcharge == pytest.approx(o.points_lost) and o.points_lost > 0 and not o.fair


def test_an_unlabelled_bug_is_charged_without_a_limit(tmp_path):
    o = outcome(tmp_path, "conv_backward_db_mean", failed={v.CONV_B: v.CONV_GROUPS},
                output="db differs")
    assert o.allowance is None and o.overcharge == 0.0 and o.fair
    assert o.charge == pytest.approx(1.0)


def test_lost_points_outside_the_touched_items_are_false_deductions_not_overcharges(tmp_path):
    o = outcome(tmp_path, "pool_backward_overwrites_overlaps",
                failed={v.POOL_B: ("overlapping",), v.RELU_B: ("float32",)},
                output="dx differs where windows overlap")
    assert o.false_deductions == {v.RELU_B: pytest.approx(2 / 3)}
    assert o.overcharge == 0.0 and not o.fair
    # the charge counts every point lost, over the points of the items it touches
    assert o.charge == pytest.approx((8 / 3 / 3 + 2 / 3) / 8)


def test_a_correct_variant_has_no_charge_row(tmp_path):
    o = outcome(tmp_path, "relu_backward_in_place")
    assert o.fair and run.charges([o]) == []


def test_the_distribution_of_the_charges():
    rows = [("a", 0.0, 8.0, 0.0, None, 0.0), ("b", 1.0, 12.0, 1 / 12, 1.0, 0.0),
            ("c", 2.0, 8.0, 0.25, None, 0.0), ("d", 6.0, 8.0, 0.75, 1.0, 5.0),
            ("e", 8.0, 8.0, 1.0, None, 0.0)]
    text = run.charge_distribution(rows)
    lines = text.splitlines()
    assert lines[0] == ("charges (points lost / points of the items touched) of 5 bugs: "
                        "mean %.2f, median 0.25; 1 charged beyond their groups"
                        % ((1 / 12 + 0.25 + 0.75 + 1.0) / 5))
    width = max(len(label) for label, _ in run.CHARGE_BUCKETS)
    counts = {}
    for (label, _), line in zip(run.CHARGE_BUCKETS, lines[1:]):
        assert line.startswith("  " + label.ljust(width) + " "), line
        count = int(line[2 + width:].split()[0])
        assert line.count("#") == count
        counts[label] = count
    assert counts == {"0": 1, "(0, 0.1]": 1, "(0.1, 0.25]": 1, "(0.25, 0.5]": 0, "(0.5, 0.75]": 1,
                      "(0.75, 1]": 1, "> 1": 0}
    table = run.charge_table(rows)
    assert table.splitlines()[0].split() == ["variant", "lost", "touched", "share", "allowed"]
    assert "! 5.00 over" in table.splitlines()[4] and "over" not in table.splitlines()[2]
    assert run.charge_distribution([]) == "charges: no bugs"


def test_the_report_keeps_the_figures_line_first(tmp_path):
    outcomes = [outcome(tmp_path / "a", "conv_im2col"),
                outcome(tmp_path / "b", "softmax_not_shifted", failed={v.SOFTMAX: ("extreme_scores",)},
                        output="exp overflowed: shift the scores")]
    text = run.report(outcomes)
    assert text.splitlines()[0] == run.figures(outcomes) == (
        "fairness: 1/1 correct at full credit, 1/1 bugs caught, 0 false deductions (0 points)")
    assert text.splitlines()[1].startswith("charges (points lost")
    assert "softmax_not_shifted" in text and text.endswith("no misgraded variants")
