"""Case groups: the spec splits an item's cases and points into named groups, a group earns
its share when its cases pass, the feedback says which group failed and what it cost, and a
cause shared by groups of several items is charged once."""
import dataclasses

import numpy as np
import pytest

from autograder.checks import judge_all
from autograder.checks.charges import charge_causes_once
from autograder.grade.aggregate import from_checks
from autograder.results.schema import results_json
from autograder.results.model import GradeResult
from autograder.spec import SpecError, load_spec, parse_spec

from tests.autograder.checks import support

ITEM = {"id": "a.b.c", "kind": "forward_value", "function": "conv_layers:conv_forward_naive",
        "points": 12, "tolerance": 1e-7, "time_limit": 10, "visibility": "visible"}


def parsed(**changes):
    spec = parse_spec({"settings": {"total_points": 12}, "item": [dict(ITEM, **changes)]})
    return spec.items[0]


def test_without_weights_core_keeps_two_thirds_and_the_rest_share():
    item = parsed(group=[{"name": "core", "cases": ["conv_core"]},
                         {"name": "no_padding", "cases": ["conv_no_padding"]},
                         {"name": "float32", "cases": ["conv_float32"]}])
    shares = {g.name: g.share for g in item.groups}
    assert shares == pytest.approx({"core": 2 / 3, "no_padding": 1 / 6, "float32": 1 / 6})
    assert item.cases == ("conv_core", "conv_no_padding", "conv_float32")
    assert item.scoring == "by_group"


def test_weights_are_normalised_and_an_item_without_groups_is_one_group():
    item = parsed(group=[{"name": "core", "cases": ["conv_core"], "weight": 3},
                         {"name": "edges", "cases": ["conv_no_padding", "conv_float32"], "weight": 1}])
    assert [g.share for g in item.groups] == pytest.approx([0.75, 0.25])
    plain = parsed(cases=["conv_core", "conv_float32"])
    assert [(g.name, g.share, g.cases) for g in plain.groups] == [("all", 1.0, ("conv_core", "conv_float32"))]


@pytest.mark.parametrize("groups, message", [
    ([{"name": "core", "cases": ["conv_core"], "weight": 2}, {"name": "x", "cases": ["conv_float32"]}],
     "every group a weight, or none"),
    ([{"name": "core", "cases": ["conv_core"]}, {"name": "core", "cases": ["conv_float32"]}],
     "two groups are named"),
    ([{"name": "core", "cases": ["conv_core"]}, {"name": "x", "cases": ["conv_core"]}],
     "in two groups"),
    ([{"name": "core", "cases": ["conv_core"], "wieght": 2}], "did you mean 'weight'"),
    ([{"name": "core", "cases": ["conv_core"], "weight": -1}], "positive"),
    ([{"name": "core"}], "a name and a list of case builders"),
])
def test_malformed_groups_fail_at_load_time_naming_the_item(groups, message):
    with pytest.raises(SpecError, match=message):
        parsed(group=groups)


def test_groups_and_cases_together_are_refused():
    with pytest.raises(SpecError, match="not both"):
        parsed(cases=["conv_core"], group=[{"name": "core", "cases": ["conv_core"]}])


def test_every_grouped_item_of_the_kit_leaves_core_most_of_its_points():
    """The homework's own configuration keeps at least half of every item (2/3 unless the
    spec says why not: the network's items give batchnorm and the penalty their own share)."""
    for item in load_spec().items:
        if len(item.groups) < 2:
            continue
        core = [g for g in item.groups if g.name == "core"]
        assert core, item.id
        least = 0.5 if item.id.startswith("cnn.") else 2 / 3
        assert core[0].share >= least - 1e-9, item.id


def _judged(item_id, spoil):
    """The item judged with the reference's observations, `spoil(case, obs)` applied to the
    student's side (returns the changed observation or None to keep it)."""
    item = support.spec().item(item_id)
    cases, reference = support.expected(item_id)
    student = [spoil(case, dict(obs)) or obs for case, obs in zip(cases, reference)]
    return item, from_checks(item, judge_all(item, cases, student, reference))


def _wrong_in(group, key="out"):
    def spoil(case, obs):
        if case["_group"] == group:
            obs[key] = np.asarray(obs[key]) + 1.0
            return obs
    return spoil


def test_a_bug_in_one_edge_group_costs_that_groups_share_and_says_so():
    item, result = _judged("conv_layers.conv_backward_naive.gradient", _wrong_in("no_padding", "dx"))
    share = {g.name: g for g in item.groups}["no_padding"].share * item.points
    assert result.score == pytest.approx(item.points - share)
    assert result.status == "failed"
    states = {g.name: g.status for g in result.groups}
    assert states["no_padding"] == "failed" and states["core"] == "passed"
    assert "Group no_padding failed: it cost 1 of the item's 12 points. dx is empty when pad = 0" \
        in result.output
    assert "  core: 8/8 points, 3 of 3 cases passed (passed)" in result.output
    assert "[no_padding]" in result.output   # the failing case is labelled with its group


def test_all_cases_scoring_is_all_or_nothing_and_says_so():
    item = dataclasses.replace(support.spec().item("conv_layers.conv_backward_naive.gradient"),
                               scoring="all_cases")
    cases, reference = support.expected(item.id)
    student = [_wrong_in("no_padding", "dx")(c, dict(o)) or o for c, o in zip(cases, reference)]
    result = judge_all(item, cases, student, reference)
    assert result.score == 0
    assert "all or nothing" in result.output


def _cnn_without_batchnorm(case, obs):
    """What a network that ignores use_batchnorm returns: an error on the batchnorm cases."""
    if case["_group"] == "batchnorm":
        return {"error": np.array('{"type": "ParameterMismatch", "message": "no gamma1"}')}


def test_a_missing_feature_shared_by_two_items_is_charged_once():
    forward_item, forward = _judged("cnn.ThreeLayerConvNet.loss.forward", _cnn_without_batchnorm)
    gradient_item, gradient = _judged("cnn.ThreeLayerConvNet.loss.gradient", _cnn_without_batchnorm)
    assert forward.score < forward.max_score and gradient.score < gradient.max_score
    charged = charge_causes_once([forward, gradient])
    lost = sum(r.max_score - r.score for r in charged)
    largest = max(g.share * i.points for i in (forward_item, gradient_item) for g in i.groups
                  if g.name == "batchnorm")
    assert lost == pytest.approx(largest)
    assert lost <= 0.5 * (forward.max_score + gradient.max_score)
    refunded = [g for r in charged for g in r.groups if g.status == "not_charged"]
    assert len(refunded) == 1
    # the forward item comes first in the spec and loses as much: it keeps the charge
    assert charged[0].score == forward.score and charged[1].score == gradient.max_score
    assert "same cause (cnn batchnorm) as the group batchnorm of cnn.ThreeLayerConvNet.loss.forward" \
        in charged[1].output
    assert "batchnorm: 2/2 points" in charged[1].output and charged[1].status != "passed"


def test_one_failing_group_of_a_cause_is_charged_as_usual():
    _, forward = _judged("cnn.ThreeLayerConvNet.loss.forward", _cnn_without_batchnorm)
    _, gradient = _judged("cnn.ThreeLayerConvNet.loss.gradient", lambda case, obs: None)
    assert charge_causes_once([forward, gradient]) == [forward, gradient]


def test_results_json_records_every_group():
    _, result = _judged("conv_layers.conv_backward_naive.gradient", _wrong_in("float32", "dx"))
    data = results_json(GradeResult(submission="s", seed=1, items=[result]))
    groups = {g["name"]: g for g in data["tests"][0]["extra_data"]["groups"]}
    assert set(groups) == {"core", "no_padding", "wide_padding", "odd_shapes", "float32"}
    assert groups["float32"]["status"] == "failed" and groups["float32"]["earned"] == 0
    assert groups["core"]["points"] == 8 and groups["core"]["earned"] == 8
    assert sum(g["earned"] for g in groups.values()) == data["tests"][0]["score"]


def test_a_consistent_backward_of_a_wrong_forward_is_charged_in_the_forward_items(tmp_path):
    """Flipped filters in both passes: one bug (a true convolution instead of correlation).
    The forward items charge it; the backward agrees with the numerical gradient of that
    forward, so its groups are refunded, with a note naming where the bug is charged."""
    edits = {"conv_layers.py": [
        ("out[n, f, i, j] = np.sum(window * w[f]) + b[f]",
         "out[n, f, i, j] = np.sum(window * w[f, :, ::-1, ::-1]) + b[f]"),
        ("dxpad[n, :, rows, cols] += dout[n, f, i, j] * w[f]",
         "dxpad[n, :, rows, cols] += dout[n, f, i, j] * w[f, :, ::-1, ::-1]"),
        ("dw[f] += dout[n, f, i, j] * xpad[n, :, rows, cols]",
         "dw[f] += dout[n, f, i, j] * xpad[n, :, rows, cols][:, ::-1, ::-1]")]}
    ids = ["conv_layers.conv_forward_naive.forward", "conv_layers.conv_forward_naive.forward_secret",
           "conv_layers.conv_backward_naive.gradient"]
    items = [support.spec().item(i) for i in ids]
    graded = support.grade(support.variant(tmp_path, edits), items)
    results = charge_causes_once([from_checks(item, graded[item.id]) for item in items])
    forward, secret, backward = results
    assert forward.score == 0 and secret.score < secret.max_score
    # float32 cases have no numerical probes: there the grader cannot tell, and charges
    refunded = {g.name for g in backward.groups if g.status == "not_charged"}
    assert refunded == {"core", "no_padding", "wide_padding", "odd_shapes"}
    assert backward.score == backward.max_score - {g.name: g for g in backward.groups}["float32"].points
    assert "whose bug is charged in conv_layers.conv_forward_naive.forward and " \
           "conv_layers.conv_forward_naive.forward_secret" in backward.output


def test_a_backward_wrong_on_its_own_is_charged_even_when_the_forward_is_wrong_too(tmp_path):
    edits = {"conv_layers.py": [
        ("out[n, f, i, j] = np.sum(window * w[f]) + b[f]",
         "out[n, f, i, j] = np.sum(window * w[f, :, ::-1, ::-1]) + b[f]"),
        ("dw[f] += dout[n, f, i, j] * xpad[n, :, rows, cols]",
         "dw[f] += dout[n, f, i, j] * xpad[n, :, rows, cols] * (1 + (i == 0))")]}
    ids = ["conv_layers.conv_forward_naive.forward_secret", "conv_layers.conv_backward_naive.gradient"]
    items = [support.spec().item(i) for i in ids]
    graded = support.grade(support.variant(tmp_path, edits), items)
    results = charge_causes_once([from_checks(item, graded[item.id]) for item in items])
    assert results[0].score < results[0].max_score
    assert results[1].score == 0   # dw is wrong whatever the forward: it disagrees with both
    assert not [g for g in results[1].groups if g.status == "not_charged"]


def test_a_cause_is_not_refunded_where_the_core_fails_too():
    """A stub fails every group of both network items: nothing says the batchnorm or the
    regularisation is the cause, so nothing is refunded."""
    def everything_fails(case, obs):
        return {"error": np.array('{"type": "NotImplementedError", "message": "stub"}')}
    _, forward = _judged("cnn.ThreeLayerConvNet.loss.forward", everything_fails)
    _, gradient = _judged("cnn.ThreeLayerConvNet.loss.gradient", everything_fails)
    assert forward.score == gradient.score == 0
    assert charge_causes_once([forward, gradient]) == [forward, gradient]
