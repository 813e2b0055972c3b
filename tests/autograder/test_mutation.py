"""Mutation test: the grader must fail >= 95% of the reference's single-change
mutants that change behaviour.

A mutant "changes behaviour" when its observations on a fresh random battery
(the items' case builders on seeds the grader does not use) differ from the
reference's, or it raises where the reference does not. Mutants that behave
identically on the battery are equivalent and excluded. A mutant is killed
when it loses points on any item graded in-process (timing and accuracy are
left out: their inputs are the same functions on bigger data).

CI runs a fixed sample of CI_SAMPLE mutants; `pytest -m slow` runs all.
"""
import functools
import signal
import shutil

import numpy as np
import pytest

from autograder.checks import judge_all, make_cases, observe_all
from autograder.checks.compare import relative_error
from autograder.checks.loading import load_nndl

from tests.autograder import mutants as mutation
from tests.autograder.checks import support

CI_SAMPLE = 60
REQUIRED_SCORE = 0.95
BATTERY_SEEDS = (101, 202)
MUTANT_SECONDS = 60
# Observation keys that are not behaviour (captured output, probes, bookkeeping).
_NOT_BEHAVIOUR = ("stdout.", "num.", "diag.type.", "diag.probe_failed", "mutated")


@functools.lru_cache(maxsize=None)
def _all_mutants():
    found = []
    for filename in sorted(mutation.GRADED_FUNCTIONS):
        source = (support.SOLUTIONS_NNDL / filename).read_text()
        found += mutation.generate(filename, source)
    return tuple(found)


def all_mutants():
    return list(_all_mutants())


def ci_sample(mutants):
    rng = np.random.default_rng(2024)
    chosen = sorted(rng.choice(len(mutants), size=min(CI_SAMPLE, len(mutants)), replace=False))
    return [mutants[i] for i in chosen]


_battery_cache = {}


def battery(item):
    """(cases, reference observations) of an item on the battery seeds."""
    if item.id not in _battery_cache:
        cases = []
        for seed in BATTERY_SEEDS:
            cases += make_cases(item, np.random.default_rng(seed))
        _battery_cache[item.id] = (cases, observe_all(item, cases, support.reference(), probes=False))
    return _battery_cache[item.id]


def _behaviour_keys(obs):
    return {k for k in obs if not k.startswith(_NOT_BEHAVIOUR)}


def observations_differ(mutant_obs, reference_obs):
    if ("error" in mutant_obs) != ("error" in reference_obs):
        return True
    keys = _behaviour_keys(reference_obs)
    if keys != _behaviour_keys(mutant_obs):
        return True
    for key in keys:
        a, b = np.asarray(mutant_obs[key]), np.asarray(reference_obs[key])
        if a.shape != b.shape or a.dtype != b.dtype:
            return True
        if a.dtype.kind in "fiub":
            if relative_error(a, b, 1e-9) > 1e-9:
                return True
        elif not np.array_equal(a, b):
            return True
    return False


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def evaluate(mutant, tmp_path):
    """(changes behaviour, killed by the grader, items that lost points)."""
    folder = support.copy_reference(tmp_path / ("m%d" % mutant.index))
    (folder / mutant.filename).write_text(mutant.source)
    modules = load_nndl(folder)
    items = support.fast_items()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(MUTANT_SECONDS)
    try:
        changed = False
        for item in items:
            cases, reference = battery(item)
            observed = observe_all(item, cases, modules, probes=False)
            if any(observations_differ(m, r) for m, r in zip(observed, reference)):
                changed = True
                break
        lost = []
        for item in items:
            cases, reference = support.expected(item.id)
            result = judge_all(item, cases, observe_all(item, cases, modules, probes=False), reference)
            if result.score < result.max_score:
                lost.append(item.id)
    except _Timeout:
        return True, True, ["(timed out)"]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        shutil.rmtree(folder, ignore_errors=True)
    return changed, bool(lost), lost


def run_mutation(mutants, tmp_path):
    changed, killed, survivors, false_alarms = 0, 0, [], []
    for mutant in mutants:
        is_changed, is_killed, _ = evaluate(mutant, tmp_path)
        if not is_changed:
            if is_killed:
                false_alarms.append(mutant.name)  # behaves like the reference, yet loses points
            continue
        changed += 1
        if is_killed:
            killed += 1
        else:
            survivors.append(mutant.name)
    score = killed / changed if changed else 1.0
    print("\nmutation score: %d of %d behaviour-changing mutants killed (%.1f%%); %d mutants in "
          "all, %d equivalent" % (killed, changed, 100 * score, len(mutants), len(mutants) - changed))
    for name in survivors:
        print("  survived:", name)
    return score, changed, survivors, false_alarms


def test_there_are_enough_mutants():
    mutants = all_mutants()
    assert len(mutants) >= 200
    assert {m.filename for m in mutants} == set(mutation.GRADED_FUNCTIONS)


def test_grader_kills_sampled_mutants(tmp_path):
    score, changed, survivors, false_alarms = run_mutation(ci_sample(all_mutants()), tmp_path)
    assert changed >= 40
    assert score >= REQUIRED_SCORE, survivors
    assert false_alarms == []


@pytest.mark.slow
def test_grader_kills_all_mutants(tmp_path):
    score, changed, survivors, false_alarms = run_mutation(all_mutants(), tmp_path)
    assert score >= REQUIRED_SCORE, survivors
    assert false_alarms == []


def test_a_mutant_is_one_change(tmp_path):
    mutant = all_mutants()[0]
    original = (support.SOLUTIONS_NNDL / mutant.filename).read_text()
    import ast
    a = ast.dump(ast.parse(original))
    b = ast.dump(ast.parse(mutant.source))
    assert a != b
