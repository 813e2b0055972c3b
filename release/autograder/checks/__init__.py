"""Checks: one module per spec kind (autograder/checks/kinds/, listed in its registry),
each declaring a Kind (kinds/base.py) with two pure functions.

    observe(item, case, nndl_modules) -> dict[str, np.ndarray]
        runs IN the student's process (sandbox worker, notebook kernel,
        self-check worker): calls the student's code on the case and returns
        plain arrays (format: autograder/checks/observation.py). Never raises
        for student errors: they come back under the "error" key.
    judge(item, case, student_obs, reference_obs) -> CheckOutcome
        runs in the grader on plain arrays only (Kind.judge_case reports a
        failed side first, so judge sees two observations).

Data flow of one item (what the grader's pipeline does, in separate processes):

    cases = make_cases(item, rng)                          # grader (secret rng)
    student = observe_all(item, cases, student_nndl)       # sandbox
    reference = observe_all(item, cases, reference_nndl, probes=False)  # reference worker
    result = judge_all(item, cases, student, reference)    # grader -> ItemResult

run_item_in_process does all of it in one process (notebook test cells, the
self-check, the tests). `nndl_modules` is an imported nndl package, a mapping
{submodule name: module} (autograder.checks.loading.load_nndl) or a folder
path (loaded with load_nndl).
"""
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from autograder.checks import kinds
from autograder.checks.cases import CASES, label_of
from autograder.checks.outcome import (CheckOutcome, GroupResult, ItemResult, Status,
                                       gradescope_visibility)

__all__ = ["CheckOutcome", "ItemResult", "make_cases", "observe_all", "judge_all",
           "run_item_in_process", "public_rng", "kind_module"]

MAX_CASES_SHOWN = 3


def kind_module(kind: str) -> kinds.Kind:
    """The declared Kind of a spec kind (autograder.checks.kinds registry): .observe, .judge,
    .judge_case, its keys. Only registered kinds: a helper module is never one."""
    return kinds.kind(kind)


def public_rng(item) -> np.random.Generator:
    """The fixed generator of a visible item's public inputs (self-check, notebooks)."""
    seed = int(item.extras.get("visible_seed", 0))
    return np.random.default_rng([seed, zlib.crc32(item.id.encode())])


ALL_CASES = "all"   # the one group of an item whose spec declares none


def make_cases(item, rng: np.random.Generator) -> list:
    """The item's cases from its named builders, in order ([] for `accuracy`: the grader builds
    those); each case's "_group" names its spec group (judge_all scores by it)."""
    groups = {builder: group.name for group in getattr(item, "groups", ()) for builder in group.cases}
    cases = []
    for name in item.cases:
        if name not in CASES:
            raise KeyError("item %s: no case builder named %r in autograder/checks/cases.py"
                           % (item.id, name))
        for case in CASES[name](rng):
            case["_group"] = groups.get(name, ALL_CASES)
            cases.append(case)
    return cases


def group_of(case) -> str:
    raw = case.get("_group", ALL_CASES) if isinstance(case, Mapping) else ALL_CASES
    return str(np.asarray(raw).reshape(())[()]) if not isinstance(raw, str) else raw


def _modules(nndl_modules):
    if isinstance(nndl_modules, (str, Path)):
        from autograder.checks.loading import load_nndl
        return load_nndl(nndl_modules)
    return nndl_modules


def observe_all(item, cases: list, nndl_modules, probes: bool = True) -> list:
    """observe() on every case (probes=False skips numerical gradients, e.g. for the reference)."""
    module = kind_module(item.kind)
    modules = _modules(nndl_modules)
    return [module.observe(item, case, modules, probes=probes) for case in cases]


def _safe_judge(module, item, case, student, reference):
    try:
        return module.judge_case(item, case, student, reference)
    except Exception as exc:  # noqa: BLE001 - malformed observations must not crash the grader
        return CheckOutcome(0.0, Status.ERROR, "the grader could not read your code's results "
                            "(%s: %s)" % (type(exc).__name__, exc))


def _dedup(items):
    seen, out = set(), []
    for x in items:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


def _case_groups(item, cases):
    """[(name, share, hint, cause, [case indices])] in spec order: the spec item's groups that
    hold cases (their shares renormalised) when every case names one of them, else one group
    "all" (an item whose cases were replaced by others)."""
    declared = list(getattr(item, "groups", ()) or ())
    names = [group_of(case) for case in cases]
    if not declared or not set(names) <= {g.name for g in declared}:
        return [(ALL_CASES, 1.0, "", "", list(range(len(cases))))]
    present = [g for g in declared if g.name in names]
    total = sum(g.share for g in present)   # 1 unless the item's cases were narrowed
    return [(g.name, g.share / total, g.hint, g.cause, [i for i, n in enumerate(names) if n == g.name])
            for g in present]


def _fraction(outcome):
    return min(max(float(outcome.fraction), 0.0), 1.0)


def _status_of(outcomes):
    if outcomes and all(o.status == Status.PASSED for o in outcomes):
        return Status.PASSED
    first = next((o for o in outcomes if o.status != Status.PASSED), None)
    return Status.ERROR if first is None or first.status == Status.ERROR else Status.FAILED


def score_groups(item, cases, outcomes) -> list:
    """GroupResult per case group. by_group: a group earns its share times its weakest case's
    fraction (all its cases pass: the share); per_case: its share times the mean fraction;
    all_cases: every group earns its share only when every case of the item passes."""
    points = float(item.points)
    every_case = min((_fraction(o) for o in outcomes), default=0.0)
    explained = _explanations(item)
    results = []
    for name, share, hint, cause, indices in _case_groups(item, cases):
        mine = [outcomes[i] for i in indices]
        fractions = [_fraction(o) for o in mine]
        if item.scoring == "per_case":
            earned = float(np.mean(fractions)) if fractions else 0.0
        elif item.scoring == "all_cases":
            earned = every_case
        else:
            earned = min(fractions, default=0.0)
        failing = [o for o in mine if o.status != Status.PASSED]
        results.append(GroupResult(
            name=name, share=share, points=points * share, earned=points * share * earned,
            cases_passed=len(mine) - len(failing), cases_total=len(mine),
            status=str(_status_of(mine)), hint=hint, cause=cause,
            because_of=_because_of(explained, failing)))
    return results


# Evidence a kind's judge leaves in outcome.data that another item's bug explains the case:
# {data key: (kind of the items that charge the bug, which function they grade)}.
def _explanations(item):
    """{data key: "<kind>:nndl.<module>.<name>"} of the items whose bug would explain a failing
    case of this item (checks/charges.py refunds it when such an item lost points)."""
    found = {}
    forward = getattr(item, "extras", {}).get("forward", "")
    if ":" in forward:   # a backward consistent with the student's own wrong forward
        found["forward_explains"] = "forward_value:nndl.%s.%s" % tuple(forward.split(":", 1))
    if ":" in getattr(item, "function", ""):   # a training sequence driven by wrong gradients
        found["gradients_explain"] = "model_gradient:" + item.function_name
    return found


def _because_of(explained, failing):
    """The one explanation every failing case of a group carries ('' when none does)."""
    for key, because in explained.items():
        if failing and all(o.data.get(key) for o in failing):
            return because
    # a check that names the item charging the bug itself ("<kind>:<function>")
    named = {str(o.data.get("explained_by") or "") for o in failing}
    if failing and len(named) == 1 and ":" in next(iter(named)):
        return named.pop()
    return ""


def side_effect_charge(item, outcomes) -> float:
    """Points charged for writes into arguments (once per item; 0 unless the spec sets
    side_effect_charge: a write that leaves every result right is a note)."""
    rate = float(getattr(item, "side_effect_charge", 0.0) or 0.0)
    if rate <= 0 or not any(o.data.get("side_effect") for o in outcomes):
        return 0.0
    return round(rate * float(item.points), 4)


def _score(item, groups, charge=0.0):
    if not groups:
        return 0.0
    return round(max(sum(g.earned for g in groups) - charge, 0.0), 4)


def _indent(text, prefix="    "):
    return "\n".join(prefix + line for line in text.splitlines())


def _case_list(numbers):
    return ", ".join(str(n) for n in numbers)


def _points(value):
    return "%g" % round(float(value), 2)


def _scoring_rule(item, passed, total):
    """The first line of a failing item without groups: how many cases passed and what that is
    worth."""
    if total <= 1:
        return "Failed."
    if item.scoring == "per_case":
        return ("%d of %d cases passed: this item gives its points per case passed (%d/%d of %g)."
                % (passed, total, passed, total, item.points))
    return "%d of %d cases passed: this item needs all cases." % (passed, total)


GROUP_RULES = {
    "by_group": "the item's points split across them; a group earns its share when all its "
                "cases pass",
    "per_case": "the item's points split across them; a group earns its share per case passed",
    "all_cases": "all or nothing: the item's points only when every case of every group passes",
}


def group_lines(scoring, points, groups):
    """The rule and one line per group ("core: 8/8 points, 3 of 3 cases passed"), then the
    cost and the hint of each failing group (scoring and points: the spec item's)."""
    lines = ["Case groups (%s):" % GROUP_RULES.get(scoring, scoring)]
    for g in groups:
        state = {"passed": "passed", "not_charged": "failed, not charged here"}.get(
            g.status, "failed" if g.status == Status.FAILED else "error")
        lines.append("  %s: %s/%s points, %d of %d cases passed (%s)"
                     % (g.name, _points(g.earned), _points(g.points), g.cases_passed,
                        g.cases_total, state))
    for g in groups:
        if g.status == Status.PASSED:
            continue
        if g.status == "not_charged":
            lines.append("Group %s: %s" % (g.name, g.note))
            continue
        lines.append("Group %s failed: it cost %s of the item's %s points%s"
                     % (g.name, _points(g.lost), _points(points),
                        (". " + g.hint) if g.hint else "."))
    return lines


def format_output(item, cases, outcomes, hints, groups=None, charge=0.0):
    """The feedback text of one item (shown to students); equal messages are shown once."""
    total = len(outcomes)
    failing = [(i, o) for i, o in enumerate(outcomes) if o.status != Status.PASSED]
    notes = _dedup(n for o in outcomes for n in o.notes)
    grouped = groups is not None and len(groups) > 1
    lines = []
    if not failing:
        lines.append("Passed: %s." % ("all %d cases" % total if total > 1 else "the case"))
    else:
        if grouped:
            lines += group_lines(item.scoring, item.points, groups)
        else:
            lines.append(_scoring_rule(item, total - len(failing), total))
        messages = {}
        for i, outcome in failing:
            messages.setdefault(outcome.message or outcome.status, []).append(i)
        for message, indices in list(messages.items())[:MAX_CASES_SHOWN]:
            first = indices[0]
            label = label_of(cases[first]) or "case %d" % (first + 1)
            where = (" [%s]" % group_of(cases[first])) if grouped else ""
            if len(indices) == 1:
                lines.append("Case %d of %d%s (%s):" % (first + 1, total, where, label))
            else:
                lines.append("Cases %s of %d%s (the first: %s):"
                             % (_case_list(i + 1 for i in indices), total, where, label))
            lines.append(_indent(message))
        if len(messages) > MAX_CASES_SHOWN:
            rest = sum(len(v) for v in list(messages.values())[MAX_CASES_SHOWN:])
            lines.append("... and %d more failing case(s)." % rest)
    if charge:
        lines.append("Side effect: your code wrote into an argument; the spec charges that %s of "
                     "the %s points." % (_points(charge), _points(item.points)))
    lines += ["Hint: " + h for h in hints]
    lines += ["Note: " + n for n in notes]
    return "\n".join(lines)


def judge_all(item, cases: list, student_obs_list: list, ref_obs_list) -> ItemResult:
    """
    Judge every case of an item and combine them into an ItemResult (score,
    status, feedback text with the hints of the failing cases and the
    cross-case diagnosis). A missing observation counts as an error.
    """
    from autograder.checks import diagnosis
    module = kind_module(item.kind)
    outcomes = []
    for i, case in enumerate(cases):
        student = student_obs_list[i] if i < len(student_obs_list) else None
        reference = ref_obs_list[i] if ref_obs_list is not None and i < len(ref_obs_list) else None
        if not isinstance(student, Mapping):
            outcomes.append(CheckOutcome(0.0, Status.ERROR, "no result for this case (the check did not run)"))
            continue
        outcomes.append(_safe_judge(module, item, case, student, reference))
    hints = [h for o in outcomes if o.status != Status.PASSED for h in o.hints]
    for rule in diagnosis.CROSS_CASE_RULES:
        hints += rule(cases, outcomes)
    hints = _dedup(hints)
    groups = score_groups(item, cases, outcomes) if outcomes else []
    charge = side_effect_charge(item, outcomes)
    score = _score(item, groups, charge)
    status = _status_of(outcomes)
    output = format_output(item, cases, outcomes, hints, groups, charge)
    return ItemResult(item_id=item.id, title=item.id, score=score, max_score=float(item.points),
                      passed=status == Status.PASSED, output=output,
                      visibility=gradescope_visibility(item), status=status, hints=hints,
                      outcomes=outcomes, groups=groups)


def run_item_in_process(item, nndl_modules, reference_modules=None, expected=None,
                        rng=None) -> ItemResult:
    """
    Run one item entirely in this process.

    - nndl_modules: the code under test (see the module docstring)
    - reference_modules: the reference nndl to compare with, or
    - expected: (cases, reference observations) as stored at release time
      (autograder.checks.visible.load_visible_expected)
    - rng: generator for the cases (default: the item's public generator)
    """
    declared = kind_module(item.kind)
    if declared.not_in_process:
        return ItemResult(item_id=item.id, title=item.id, score=0.0, max_score=float(item.points),
                          passed=False, output=declared.not_in_process,
                          visibility=gradescope_visibility(item), status=Status.ERROR)
    if expected is not None:
        cases, reference = expected
    elif reference_modules is not None:
        cases = make_cases(item, rng if rng is not None else public_rng(item))
        reference = observe_all(item, cases, reference_modules, probes=False)
    else:
        raise ValueError("run_item_in_process needs reference_modules or expected")
    student = observe_all(item, cases, nndl_modules)
    return judge_all(item, cases, student, reference)
