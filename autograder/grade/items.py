"""Running one spec item on cases: draw them, observe the reference and the student, judge
(the case runner, for every kind that compares outputs), and the observing both sides that
every runner shares (the other kinds' runners: run_timing.py, run_accuracy.py; which kind
runs with which: runners.py).

The reference's observations come from a trusted worker (same protocol, no
sandbox); the student's from the sandboxed worker. Judging runs here, in the
grader, on plain arrays only.
"""
import dataclasses
import time

from autograder.checks import judge_all
from autograder.checks.in_worker import OBSERVE, observe_arguments
from autograder.checks.observation import describe_error, error_of, error_observation
from autograder.grade import adapter, probe_pass
from autograder.grade.aggregate import from_checks

REFERENCE_SLACK = 2.0      # the reference gets this multiple of the item's time limit (+30 s)


class GraderError(Exception):
    """Something on the grader's side failed (not the student's fault)."""


_FAILURE_TYPES = {"timeout": "TimeLimitExceeded", "died": "ProcessDied",
                  "output_limit": "OutputLimitExceeded", "error": "Error"}


def failure_observation(item, reply):
    """The observation standing in for a request the sandbox stopped or that failed outright."""
    trace = str(reply.data.get("traceback", "")) if reply.data else ""
    return error_observation(_FAILURE_TYPES.get(reply.status, "Error"), reply.message,
                             where=item.qualname, trace=trace)


def reference_observe(ctx, item, case, index=None):
    """The reference's observation of a case; reused across submissions graded with one seed
    when the case's `index` is given (run_timing gives none: its observe also builds the
    model its worker times next)."""
    key = (item.id, index) if index is not None else None
    if key is not None and key in ctx.reference_cache:
        return ctx.reference_cache[key]
    reply, obs = observe_in(ctx.reference, item, case, REFERENCE_SLACK * item.time_limit + 30,
                            probes=False)
    if reply.status != "ok":
        raise GraderError("the reference failed on %s: %s %s" % (item.id, reply.message,
                                                                 reply.output[-500:]))
    failure = error_of(obs)
    if failure is not None:
        # The reference's own code raised: a grader bug, never a student's zero.
        raise GraderError("the reference failed on %s: %s" % (item.id, describe_error(failure)))
    if key is not None:
        ctx.reference_cache[key] = obs
    return obs


def observe_in(session, item, case, timeout, probes):
    """The item kind's observe of the case in `session`'s worker: (Reply, observation or None)."""
    reply, obs = session.call(OBSERVE, observe_arguments(item, case, probes), timeout)
    if reply.status == "ok" and not isinstance(obs, dict):
        return dataclasses.replace(reply, status="error", data={}, value=None,
                                   message="the worker sent back no observation"), None
    return reply, obs


def student_observe(ctx, item, case, timeout, probes=True):
    reply, obs = observe_in(ctx.student, item, case, timeout, probes=probes)
    if reply.status != "ok":
        return failure_observation(item, reply), reply
    return obs, reply


def run_cases(ctx, item, start):
    cases = adapter.draw_cases(item, ctx.seed)
    students, references = [], []
    probes = probe_pass.probes_first(item)   # numerical probes: a second pass if needed
    for index, case in enumerate(cases):
        references.append(reference_observe(ctx, item, case, index))
        remaining = item.time_limit - (time.monotonic() - start)
        if remaining <= 0:
            students.append(error_observation(
                "TimeLimitExceeded", "not run: the item's time limit of %g s was used up by the "
                "cases before" % item.time_limit, where=item.qualname))
            continue
        students.append(student_observe(ctx, item, case, remaining, probes=probes)[0])
    verdict = judge_all(item, cases, students, references)
    if not probes and probe_pass.needs_probes(item, verdict):
        students = probe_pass.observed_with_probes(
            cases, students, lambda: item.time_limit - (time.monotonic() - start),
            lambda case, seconds: student_observe(ctx, item, case, seconds)[0])
        verdict = judge_all(item, cases, students, references)
    return from_checks(item, verdict)
