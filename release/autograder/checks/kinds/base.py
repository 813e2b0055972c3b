"""What a check kind declares: its observe and judge, its spec keys, where it runs.

A kind is one module of this package ending in

    KIND = Kind("<name>", observe, judge, keys=(Key(...), ...), ...)

and one line in the registry (autograder/checks/kinds/__init__.py). The spec
loader validates every item's kind-specific keys against `keys` (unknown or
missing ones fail at load time, naming the item) and fills in the defaults, so
observe and judge read item.extras[name] without defaults of their own.
"""
from dataclasses import dataclass
from typing import Any, Callable

from autograder.checks import judging
from autograder.checks.outcome import CheckOutcome


class _Required:
    def __repr__(self):
        return "REQUIRED"


REQUIRED: Any = _Required()   # a Key default: the spec must give the key


@dataclass(frozen=True)
class Key:
    """One kind-specific key of a spec item: its default, its type, what it does. The default
    REQUIRED: the spec must give it; None: optional, left out of item.extras when not given
    (its reader says what applies then). choices: the only values allowed (() for any value
    of the type)."""
    name: str
    default: Any
    doc: str
    type: type = None   # derived from the default when not given
    choices: tuple = ()

    @property
    def value_type(self) -> type:
        if self.type is not None:
            return self.type
        return type(self.default)

    def problem(self, value) -> str:
        """Why `value` does not fit this key ('' when it does)."""
        wanted = self.value_type
        if wanted is float:
            fits = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif wanted is int:
            fits = isinstance(value, int) and not isinstance(value, bool)
        elif wanted is type(None):
            fits = True
        else:
            fits = isinstance(value, wanted)
        if not fits:
            return "must be a %s, got %r" % (
                {float: "number", int: "whole number", str: "string", bool: "boolean"}.get(
                    wanted, wanted.__name__), value)
        if self.choices and value not in self.choices:
            return "must be one of %s, got %r" % (", ".join(repr(c) for c in self.choices), value)
        return ""


@dataclass(frozen=True)
class Kind:
    """
    One check kind.

    - observe(item, case, nndl_modules, probes=True) -> observation (runs with the student's code)
    - judge(item, case, student_obs, reference_obs) -> CheckOutcome, called only when neither
      side's observation is an error (judge_case checks that first)
    - keys: the kind-specific spec keys (Key), validated and defaulted when the spec loads
    - needs_cases: the spec item must name case builders (`cases`)
    - self_check: the student's self-check and the notebook cells run it on public inputs
    - not_in_process: why run_item_in_process cannot run it (said to the student; '' if it can)
    - grader_runner: "autograder.<module>:<function>" running the item in the grader
      (run(ctx, item, start) -> report ItemResult); '' for the case runner of grade/items.py
    - reference_errors: judge_case also reports a failed reference observation (False when
      the reference side is not an observation, e.g. accuracy's trusted evaluation)
    - output_cases: its cases are inputs whose outputs are compared with the reference's
      (the feedback says on which inputs: the notebook's shapes, or secret ones)
    - priced_in_release: a hidden item of this kind still ships in the release's visible-only
      spec (without its secret keys), because the self-check prices the student's work with
      its rule before the deadline
    - error_hints: (item, case, error_info) -> [hint] on a crash of the student's code, before
      the generic crash hints (None: those only)
    """
    name: str
    observe: Callable
    judge: Callable
    keys: tuple = ()
    needs_cases: bool = True
    self_check: bool = True
    not_in_process: str = ""
    grader_runner: str = ""
    reference_errors: bool = True
    output_cases: bool = True
    priced_in_release: bool = False
    error_hints: Callable = None

    def key(self, name: str) -> Key:
        for key in self.keys:
            if key.name == name:
                return key
        raise KeyError("kind %s has no key %r" % (self.name, name))

    def judge_case(self, item, case, student_obs, reference_obs) -> CheckOutcome:
        """The verdict on one case: a failed side first, then the kind's own judge."""
        failed = judging.errors(item, student_obs,
                                reference_obs if self.reference_errors else None,
                                case=case, kind_hints=self.error_hints)
        if failed is not None:
            return failed
        return self.judge(item, case, student_obs, reference_obs)
