"""The checks' entry points run inside a worker, as trusted calls of the generic sandbox
runner (autograder/sandbox/worker.py): the grader says what to call and with what, the
worker knows nothing of kinds or specs.

    session.call(OBSERVE, observe_arguments(item, case, probes), timeout)

The item travels in the request as plain fields (its spec is the grader's; nothing is
read from a file the sandbox could reach).
"""
import dataclasses

from autograder.checks import kinds

OBSERVE = "autograder.checks.in_worker:observe"
# What stands in, in the worker's nndl mapping, for a module that failed to import (the
# checks' resolve reports it): the placeholder of the worker's import requests.
IMPORT_FAILURE = "autograder.checks.loading:ImportFailure"


def observe_arguments(item, case, probes=True) -> dict:
    """The keyword arguments of an OBSERVE call: the item's fields, the case, probes."""
    return {"item": dataclasses.asdict(item), "case": case, "probes": bool(probes)}


def observe(nndl, item, case, probes=True):
    """The item's kind's observe(item, case, nndl, probes) on the worker's nndl modules."""
    from autograder.spec import Item
    item = Item(**dict(item, cases=tuple(item.get("cases", ()))))
    return kinds.kind(item.kind).observe(item, case, nndl, probes=probes)
