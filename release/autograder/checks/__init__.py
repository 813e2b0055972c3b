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
from autograder.checks.outcome import (CheckOutcome, ItemResult, Status,
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


def make_cases(item, rng: np.random.Generator) -> list:
    """The item's cases from its named builders, in order ([] for `accuracy`: the grader builds those)."""
    cases = []
    for name in item.cases:
        if name not in CASES:
            raise KeyError("item %s: no case builder named %r in autograder/checks/cases.py"
                           % (item.id, name))
        cases.extend(CASES[name](rng))
    return cases


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


def _score(item, outcomes):
    if not outcomes:
        return 0.0
    fractions = [min(max(float(o.fraction), 0.0), 1.0) for o in outcomes]
    share = np.mean(fractions) if item.scoring == "per_case" else min(fractions)
    return round(float(item.points) * float(share), 4)


def _indent(text, prefix="    "):
    return "\n".join(prefix + line for line in text.splitlines())


def _case_list(numbers):
    return ", ".join(str(n) for n in numbers)


def _scoring_rule(item, passed, total):
    """The first line of a failing item: how many cases passed and what that is worth."""
    if total <= 1:
        return "Failed."
    if item.scoring == "per_case":
        return ("%d of %d cases passed: this item gives its points per case passed (%d/%d of %g)."
                % (passed, total, passed, total, item.points))
    return "%d of %d cases passed: this item needs all cases." % (passed, total)


def format_output(item, cases, outcomes, hints):
    """The feedback text of one item (shown to students); equal messages are shown once."""
    total = len(outcomes)
    failing = [(i, o) for i, o in enumerate(outcomes) if o.status != Status.PASSED]
    notes = _dedup(n for o in outcomes for n in o.notes)
    lines = []
    if not failing:
        lines.append("Passed: %s." % ("all %d cases" % total if total > 1 else "the case"))
    else:
        lines.append(_scoring_rule(item, total - len(failing), total))
        groups = {}
        for i, outcome in failing:
            groups.setdefault(outcome.message or outcome.status, []).append(i)
        for message, indices in list(groups.items())[:MAX_CASES_SHOWN]:
            first = indices[0]
            label = label_of(cases[first]) or "case %d" % (first + 1)
            if len(indices) == 1:
                lines.append("Case %d of %d (%s):" % (first + 1, total, label))
            else:
                lines.append("Cases %s of %d (the first: %s):"
                             % (_case_list(i + 1 for i in indices), total, label))
            lines.append(_indent(message))
        if len(groups) > MAX_CASES_SHOWN:
            rest = sum(len(v) for v in list(groups.values())[MAX_CASES_SHOWN:])
            lines.append("... and %d more failing case(s)." % rest)
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
    score = _score(item, outcomes)
    if outcomes and all(o.status == Status.PASSED for o in outcomes):
        status = Status.PASSED
    else:
        first = next((o for o in outcomes if o.status != Status.PASSED), None)
        status = Status.ERROR if first is None or first.status == Status.ERROR else Status.FAILED
    output = format_output(item, cases, outcomes, hints)
    return ItemResult(item_id=item.id, title=item.id, score=score, max_score=float(item.points),
                      passed=status == Status.PASSED, output=output,
                      visibility=gradescope_visibility(item), status=status, hints=hints,
                      outcomes=outcomes)


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
