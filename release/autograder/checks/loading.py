"""Load an nndl package from a folder without disturbing the caller's `nndl`.

The reference, a student's copy, a mutant and the caller's own `nndl` can live
in one process: nndl modules import each other by absolute name
(`from nndl.layers import ...`), so the folder is imported as `nndl` while the
caller's `nndl*` entries of sys.modules are set aside, and put back afterwards.
The loaded modules keep working because they bound what they imported at
import time (no nndl module imports lazily inside a function).

A submodule that fails to import (syntax error, exception at import time) is
returned as an ImportFailure that says which file and why, so checks on the
other modules still run.
"""
import importlib
import importlib.machinery
import importlib.util
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from autograder.checks.observation import short_traceback
from autograder.kit import NNDL_MODULES

PACKAGE = "nndl"
SUBMODULES = NNDL_MODULES   # the submodules a course copy of nndl has, in dependency order

_lock = threading.Lock()


@dataclass(frozen=True)
class ImportFailure:
    """Stands in for a module that could not be imported."""
    module: str
    error_type: str
    message: str
    trace: str

    def describe(self):
        text = "nndl/%s.py could not be imported: %s: %s" % (self.module, self.error_type, self.message)
        return text


def _failure(module, exc, folder):
    trace = short_traceback(exc, within=str(folder), frames=4)
    if isinstance(exc, SyntaxError) and exc.filename:
        message = "%s (%s, line %s)" % (exc.msg, Path(exc.filename).name, exc.lineno)
    else:
        message = str(exc)
    return ImportFailure(module, type(exc).__name__, message, trace)


def load_nndl(folder, submodules=None):
    """
    Import the nndl package in `folder` (a directory holding __init__.py and
    the submodules) in isolation.

    Returns {submodule name: module or ImportFailure} for every .py file of
    the folder (or for `submodules` when given). sys.modules is left as it was.
    """
    folder = Path(folder).resolve()
    if submodules is None:
        present = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
        order = [name for name in SUBMODULES if name in present]
        submodules = order + sorted(present - set(order))
    with _lock:
        saved = {name: mod for name, mod in sys.modules.items()
                 if name == PACKAGE or name.startswith(PACKAGE + ".")}
        for name in saved:
            del sys.modules[name]
        try:
            return _import_all(folder, submodules)
        finally:
            for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
                del sys.modules[name]
            sys.modules.update(saved)


def _import_all(folder, submodules):
    init = folder / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        PACKAGE, init if init.exists() else None, submodule_search_locations=[str(folder)])
    if spec is None:  # no __init__.py: a namespace-like package over the folder
        spec = importlib.machinery.ModuleSpec(PACKAGE, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    loaded = {}
    try:
        if spec.loader is not None:
            spec.loader.exec_module(package)
    except BaseException as exc:  # noqa: BLE001 - a student's __init__ may do anything
        if isinstance(exc, KeyboardInterrupt):
            raise
        failure = _failure("__init__", exc, folder)
        return {name: failure for name in submodules}
    importlib.invalidate_caches()
    for name in submodules:
        if not (folder / (name + ".py")).exists():
            loaded[name] = ImportFailure(name, "FileNotFoundError", "nndl/%s.py is missing" % name, "")
            continue
        try:
            loaded[name] = importlib.import_module("%s.%s" % (PACKAGE, name))
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, KeyboardInterrupt):
                raise
            loaded[name] = _failure(name, exc, folder)
    return loaded


def import_current_nndl(submodules=SUBMODULES):
    """{name: module or ImportFailure} of the `nndl` the caller imports (e.g. a notebook kernel)."""
    loaded = {}
    for name in submodules:
        try:
            loaded[name] = importlib.import_module("%s.%s" % (PACKAGE, name))
        except ModuleNotFoundError as exc:
            if exc.name in (PACKAGE, "%s.%s" % (PACKAGE, name)):
                loaded[name] = ImportFailure(name, "ModuleNotFoundError",
                                             "nndl/%s.py was not found" % name, "")
            else:
                loaded[name] = _failure(name, exc, "")
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, KeyboardInterrupt):
                raise
            loaded[name] = _failure(name, exc, "")
    return loaded


def kit_reference_dir():
    """
    The reference nndl folder when this autograder package sits in the kit's own
    checkout (<repo>/autograder beside <repo>/solutions/nndl), else None (a
    student copy). Found from this package's location, never from the
    student's working folder.
    """
    from autograder.kit import KIT_ROOT
    folder = KIT_ROOT / "solutions" / PACKAGE
    return folder if (folder / "__init__.py").exists() else None


_reference_cache = {}


def kit_reference():
    """The kit's reference nndl loaded in isolation (cached), or None in a student copy."""
    folder = kit_reference_dir()
    if folder is None:
        return None
    if folder not in _reference_cache:
        _reference_cache[folder] = load_nndl(folder)
    return _reference_cache[folder]
