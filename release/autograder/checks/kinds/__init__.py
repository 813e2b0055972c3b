"""The registry of check kinds: the one list the spec, the checks, the grader and the
self-check read (see base.py for what a kind declares).

Adding a kind: a module here ending in `KIND = Kind(...)`, and its name in REGISTERED
(a kind kept elsewhere, e.g. a course's own: its full module path; the kind is named
after the module). Helper modules (loading, cases, ...) are not kinds: only the names
below are. A kind that does not compare outputs on cases (a saved model, a time) also needs
its runner in the grader's table (autograder/grade/runners.py; a test names a kind without).
The code around the checks asks a kind what it declares (declares, saved_model_items),
never its name.
"""
import importlib
from contextlib import contextmanager

from autograder.checks.kinds.base import REQUIRED, Key, Kind

__all__ = ["Kind", "Key", "REQUIRED", "REGISTERED", "kind", "kinds", "names", "registered",
           "declares", "saved_model_items"]

REGISTERED = [
    "forward_value",
    "gradient",
    "model_forward",
    "model_gradient",
    "timing",
    "accuracy",
]

_EXTRA = {}   # kinds registered at run time (registered(): tests, a course's own kinds)


def _modules() -> dict:
    """{kind name: module path} of the registry's entries."""
    return {entry.rsplit(".", 1)[-1]: entry if "." in entry else "%s.%s" % (__name__, entry)
            for entry in REGISTERED}


def names() -> tuple:
    """Every kind's name, in registry order."""
    listed = tuple(_modules())
    return listed + tuple(name for name in _EXTRA if name not in listed)


def kind(name: str) -> Kind:
    """The declared Kind of this name; KeyError for a name that is not a kind."""
    if name in _EXTRA:
        return _EXTRA[name]
    modules = _modules()
    if name not in modules:
        raise KeyError("no check kind %r (known: %s)" % (name, ", ".join(names())))
    declared = importlib.import_module(modules[name]).KIND
    if declared.name != name:
        raise RuntimeError("%s declares kind %r" % (modules[name], declared.name))
    return declared


def kinds() -> tuple:
    return tuple(kind(name) for name in names())


def declares(kind_name: str, flag: str) -> bool:
    """The named kind's flag or derived property (e.g. "compares_outputs"); False for a name
    that is not a registered kind (an older results.json, a kind since removed)."""
    if not hasattr(Kind, flag):
        raise AttributeError("a Kind declares no %r" % flag)
    return kind_name in names() and bool(getattr(kind(kind_name), flag))


def saved_model_items(items) -> list:
    """The items among `items` whose kind grades the submitted model file (Kind.grades_saved_model):
    the ones that need CIFAR-10, a held-out file, a model or a retrain."""
    return [item for item in items if declares(item.kind, "grades_saved_model")]


@contextmanager
def registered(declared: Kind):
    """Register a Kind for the duration of a with-block (a kind defined outside this package)."""
    if declared.name in names():
        raise ValueError("kind %r is already registered" % declared.name)
    _EXTRA[declared.name] = declared
    try:
        yield declared
    finally:
        _EXTRA.pop(declared.name, None)
