"""Numerical-gradient probes only where they can matter: a second pass for failing items.

A gradient item's student observation may carry numerical probes of the student's own code
(checks/numeric.py: 16 entries per input, two forward calls each, and a direction; the
model's loss for model_gradient, with the derived-backward passes). The judges read them
only for a case whose gradients differ from the reference's: to explain the difference
(diagnosis.gradient_source), to tell a forward's bug from the backward's
(gradient._forward_explains, which checks/charges.py reads) and to find a carried-over bug
(model_gradient). They cost about ten times the graded calls (the naive convolution's
above all), and most submissions pass. So the cases are first observed without probes; only
when some case does not pass is every case that ran observed again with them, as the single
pass did before, and the item judged on those observations.
"""
from autograder.checks import kinds
from autograder.checks.outcome import Status


def probing(item):
    """The item's kind adds probes to its observations (Kind.reads_probes; tests check that
    no other kind's observe does)."""
    return kinds.declares(item.kind, "reads_probes")


def probes_first(item):
    """Whether the first pass observes with probes (the kinds that ignore them: as always)."""
    return not probing(item)


def needs_probes(item, verdict):
    """True when some case of a probing kind did not pass, so its diagnosis needs the probes."""
    return probing(item) and any(
        outcome.status != Status.PASSED for outcome in verdict.outcomes)


def observed_with_probes(cases, students, remaining, observe_probed):
    """
    The student's observations again, with probes, for every case whose first observation
    holds no error (an error comes from the graded calls, which run before any probe).

    - remaining(): seconds left of the item's time limit
    - observe_probed(case, seconds): the observation with probes
    A case keeps its first observation when no time is left or when the probed call fails
    where the plain one did not (the graded outputs are the same calls; probes are diagnosis).
    """
    again = []
    for case, first in zip(cases, students):
        seconds = remaining()
        if not isinstance(first, dict) or "error" in first or seconds <= 0:
            again.append(first)
            continue
        probed = observe_probed(case, seconds)
        again.append(first if not isinstance(probed, dict) or "error" in probed else probed)
    return again
