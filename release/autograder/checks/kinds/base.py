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


# The keys every saved-model kind declares: the grader, the class run, the Gradescope
# bundle and the student README read them on any item of such a kind (what file, what a
# submission without it gets, how long a retrain may take).
SAVED_MODEL_KEYS = ("model_file", "missing_model", "retrain_time_limit")


@dataclass(frozen=True)
class Kind:
    """
    One check kind.

    - observe(item, case, nndl_modules, probes=True) -> observation (runs with the student's code)
    - judge(item, case, student_obs, reference_obs) -> CheckOutcome, called only when neither
      side's observation is an error (judge_case checks that first)
    - keys: the kind-specific spec keys (Key), validated and defaulted when the spec loads
    - grades_saved_model: the item grades the model file the student submits, not the code
      on drawn cases (the accuracy kind). Such an item names no cases, cannot run in one
      process (only `autograder grade` scores it), its reference side is the grader's
      trusted evaluation of the file rather than an observation, the self-check prices the
      student's model with its rule (so a hidden item ships in the release's visible-only
      spec), and it declares SAVED_MODEL_KEYS
    - measures_time: the item scores how long the student's code takes (the timing kind):
      its cases are inputs to time, not outputs to compare, so the self-check and the
      release's stored expected values leave it out and the feedback names no inputs (in
      one process it is timed for the student's information only)
    - reads_probes: observe(..., probes=True) adds numerical probes of the student's own code
      that the judge reads only for a case that differs (the gradient kinds): the grader
      observes without them first and again with them only when some case fails
      (autograder/grade/probe_pass.py)
    - error_hints: (item, case, error_info) -> [hint] on a crash of the student's code, before
      the generic crash hints (None: those only)

    How the grader runs an item of the kind is the grader's (autograder/grade/runners.py):
    a kind that compares outputs uses the case runner; the others have a runner there, keyed
    by the kind's name, and a test fails for a kind registered without one.
    """
    name: str
    observe: Callable
    judge: Callable
    keys: tuple = ()
    grades_saved_model: bool = False
    measures_time: bool = False
    reads_probes: bool = False
    error_hints: Callable = None

    def __post_init__(self):
        if self.grades_saved_model:
            missing = [name for name in SAVED_MODEL_KEYS
                       if name not in {key.name for key in self.keys}]
            if missing:
                raise ValueError("kind %s grades a saved model but declares no key %s"
                                 % (self.name, ", ".join(missing)))

    @property
    def compares_outputs(self) -> bool:
        """Its cases are inputs whose outputs are compared with the reference's: the grader's
        case runner runs it, the student's self-check runs it on public inputs and the release
        stores its expected outputs (checks/visible.py: the student copy's notebook cells read
        them), the feedback says on which inputs it was graded."""
        return not (self.grades_saved_model or self.measures_time)

    @property
    def needs_cases(self) -> bool:
        """A spec item of the kind must name case builders (`cases`)."""
        return not self.grades_saved_model

    @property
    def not_in_process(self) -> str:
        """Why run_item_in_process cannot run it (said to the student; '' if it can)."""
        if self.grades_saved_model:
            return "The %s item is graded by `autograder grade` on your saved model." % self.name
        return ""

    def key(self, name: str) -> Key:
        for key in self.keys:
            if key.name == name:
                return key
        raise KeyError("kind %s has no key %r" % (self.name, name))

    def judge_case(self, item, case, student_obs, reference_obs) -> CheckOutcome:
        """The verdict on one case: a failed side first, then the kind's own judge."""
        # a saved-model kind's reference side is the trusted evaluation, not an observation
        failed = judging.errors(item, student_obs,
                                None if self.grades_saved_model else reference_obs,
                                case=case, kind_hints=self.error_hints)
        if failed is not None:
            return failed
        return self.judge(item, case, student_obs, reference_obs)
