"""One charge per root cause across the items of one submission.

- Declared causes: case groups of several items may name one `cause` in the spec
  (batchnorm inside ThreeLayerConvNet fails a group of the forward item and a group of the
  gradient item; so does a missing regularisation). When groups sharing a cause fail in
  more than one item, the group with the largest charge keeps it and the others are
  refunded.
- Observed causes (GroupResult.because_of, "<kind>:<function>"): a backward pass that agrees
  with the numerical gradient of the student's own wrong forward fails because of the
  forward; a training sequence driven by wrong gradients fails because of the gradients;
  the network's gradients that are right once relu_backward's or softmax_loss's gradient is
  derived from the student's own forward fail because of that function (derived_backward.py).
  When an item of that kind grading that function lost points, the group is refunded: the
  bug is charged there.

Every refund leaves the group failed, with a note naming where its cause is charged. Items
scored all or nothing (scoring = "all_cases") keep their own rule and take no part.

    results = charge_causes_once(results)     # ItemResults of one submission, spec order
"""
import dataclasses

from autograder.checks import group_lines
from autograder.checks.derived_backward import CHARGED_IN
from autograder.checks.outcome import Status

NOT_CHARGED = "not_charged"
# how a refund note says why the group failed, by the kind of the item that charges the bug
EXPLAINED = {
    "forward_value": "your backward agrees with the numerical gradient of your %s",
    "model_gradient": "the training steps follow the gradients of your %s, which are wrong",
}
CARRIED_OVER = ("the network's gradients are right once the gradient of your %s is derived from "
                "your own forward")


def _core_passed(result):
    """Whether the item's own configuration passed: its core group, or every group that names
    no cause. A failing feature group of an item whose core fails too says nothing about the
    feature (a stub fails everything), so only items whose core passed share a cause."""
    groups = list(result.groups or ())
    core = [g for g in groups if g.name == "core"] or [g for g in groups if not g.cause]
    return bool(core) and all(g.status == Status.PASSED for g in core)


def _failing_groups(results):
    """{cause: [(result index, group index)]} of the failing groups that cost points, in items
    whose core passed."""
    found = {}
    for i, result in enumerate(results):
        if result.scoring == "all_cases" or not _core_passed(result):
            continue
        for j, group in enumerate(result.groups or ()):
            if group.cause and group.status != Status.PASSED and group.lost > 1e-9:
                found.setdefault(group.cause, []).append((i, j))
    return found


def charge_causes_once(results: list) -> list:
    """The ItemResults with every shared cause charged once (new objects where refunded)."""
    results = _charge_forward_bugs_once(list(results))
    for cause, places in _failing_groups(results).items():
        if len(places) < 2:
            continue
        # the largest charge stays; on a tie the first item in spec order keeps it
        kept_i, kept_j = max(places, key=lambda p: (results[p[0]].groups[p[1]].lost, -p[0]))
        where = "group %s of %s" % (results[kept_i].groups[kept_j].name, results[kept_i].item_id)
        for i, j in places:
            if (i, j) != (kept_i, kept_j):
                results[i] = _refund(results[i], j, cause=cause, where=where)
    return results


def _charge_forward_bugs_once(results):
    """Refund the groups that fail only because of another function whose own item lost
    points. Whether an item lost points is read before any refund, and a refund names the item
    that finally charges the bug: a training sequence that fails because of the network's
    gradients, which fail because of relu_backward, names the relu_backward item."""
    lost = [result.score < result.max_score - 1e-9 for result in results]

    def charging(kind, function, exclude):
        return [k for k, other in enumerate(results) if k != exclude and lost[k]
                and other.kind == kind and other.function == function]

    refunds = {}     # (i, j) -> (why, indices of the items charged)
    for i, result in enumerate(results):
        if result.scoring == "all_cases":
            continue
        for j, group in enumerate(result.groups or ()):
            if not group.because_of or group.status == Status.PASSED or group.lost <= 1e-9:
                continue
            kind, _, function = group.because_of.partition(":")
            charged = charging(kind, function, i)
            if charged:
                why = (CARRIED_OVER if group.because_of in CHARGED_IN.values()
                       else EXPLAINED.get(kind, "it fails because of %s")) % function
                refunds[(i, j)] = (why, charged)
    # an item all of whose lost points are refunded passes its charge on
    passed_on = {i: sorted({k for (ri, _), (_, ch) in refunds.items() if ri == i for k in ch})
                 for i, result in enumerate(results)
                 if lost[i] and all((i, j) in refunds for j, g in enumerate(result.groups or ())
                                    if g.status != Status.PASSED and g.lost > 1e-9)}

    def final(k, seen=()):
        if k not in passed_on or k in seen:
            return [k]
        return [f for nxt in passed_on[k] for f in final(nxt, seen + (k,))]

    for (i, j), (why, charged) in sorted(refunds.items()):
        names = []
        for k in charged:
            names += [results[f].item_id for f in final(k, (i,))
                      if results[f].item_id not in names]
        note = ("%s, whose bug is charged in %s: not charged again here (%g points kept)."
                % (why, " and ".join(names), round(results[i].groups[j].lost, 2)))
        results[i] = _refund(results[i], j, note=note)
    return results


def _refund(result, index, cause="", where="", note=""):
    """The item with group `index` refunded: its points back, its line in the output saying
    where the cause is charged."""
    group = result.groups[index]
    note = note or ("it fails for the same cause (%s) as the %s, which is charged for it: not "
                    "charged again here (%g points kept)."
                    % (cause.replace("_", " "), where, round(group.lost, 2)))
    groups = list(result.groups)
    groups[index] = dataclasses.replace(group, earned=group.points, status=NOT_CHARGED, note=note)
    before = "\n".join(group_lines(result.scoring, result.max_score, result.groups))
    after = "\n".join(group_lines(result.scoring, result.max_score, groups))
    return dataclasses.replace(result, groups=groups, output=result.output.replace(before, after),
                               score=min(round(result.score + group.lost, 4), float(result.max_score)))
