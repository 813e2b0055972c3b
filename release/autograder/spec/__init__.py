"""The grading spec (grading.toml beside this module) as plain dataclasses.

    spec = load_spec()                      # every item, points checked to sum to the total
    spec = load_spec(visible_only=True)     # only the items students see before the deadline
    item = spec.item("conv_layers.conv_backward_naive.gradient")

A student copy ships a visible-only grading.toml (written by
autograder.release.manifest.write_visible_spec); it says so with
`visible_only = true` in [settings], which also turns off the points-sum check.
"""
import difflib
import fnmatch
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from autograder.checks import kinds

# The spec file's name (beside this module, in a release, in the Gradescope zip) and the
# kit's own spec: the default of every command that takes --spec.
SPEC_FILE = "grading.toml"
SPEC_PATH = Path(__file__).with_name(SPEC_FILE)

VISIBILITIES = ("visible", "hidden")
SCORINGS = ("by_group", "all_cases", "per_case")
CORE_GROUP = "core"          # the homework's own configuration
CORE_DEFAULT_SHARE = 2 / 3   # core's share of an item when the spec gives no weights

# Keys every [[item]] may carry; a kind's own keys (its Kind.keys) go into Item.extras.
_ITEM_FIELDS = ("id", "kind", "function", "points", "tolerance", "time_limit", "visibility",
                "cases", "scoring", "section", "group", "side_effect_charge")
_GROUP_FIELDS = ("name", "cases", "weight", "hint", "cause")
_REQUIRED = ("id", "kind", "function", "points", "time_limit", "visibility")
# [settings] keys read by other modules through Settings.extras (their defaults live there).
_SETTINGS_PASSED_ON = ("notebook_limit_mb",)   # autograder/submission/notebooks.py


class SpecError(ValueError):
    """The grading spec is malformed (duplicate ids, unknown kinds, wrong total...)."""


@dataclass(frozen=True)
class Settings:
    """[settings] of the spec. Tolerance knobs are documented in autograder/checks/compare.py."""
    total_points: float = 100
    memory_limit_mb: int = 4096
    output_limit_kb: int = 256
    max_processes: int = 64
    visible_seed: int = 20240531       # public inputs of visible items (self-check, notebooks)
    float32_tolerance: float = 1e-4    # float32 cases: max(item tolerance, this)
    error_floor_float64: float = 1e-6  # relative-error floor, as a fraction of the expected scale
    error_floor_float32: float = 1e-2
    numeric_tolerance: float = 1e-5    # backward vs numerical gradient of the student's forward
    visible_only: bool = False         # true in a student copy's spec
    tmp_limit_mb: int = 512            # the sandbox's /tmp (a tmpfs, RAM beside memory_limit_mb)
    work_limit_mb: int = 1024          # the sandbox's work folder (disk or tmpfs)
    extras: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CaseGroup:
    """One named group of an item's cases ([[item.group]] in the spec).

    - name: shown to students ("core": the homework's own configuration)
    - cases: its case-builder names (autograder/checks/cases.py)
    - share: its fraction of the item's points (the weights normalised; they sum to 1)
    - hint: shown when the group fails (what usually breaks it)
    - cause: groups of several items failing for one cause (e.g. batchnorm inside the
      network) share a cause name; a submission is charged for it once (the largest charge)
    """
    name: str
    cases: tuple
    share: float
    hint: str = ""
    cause: str = ""


@dataclass(frozen=True)
class Item:
    """One graded item. `cases` is a tuple of case-builder names (autograder/checks/cases.py);
    `groups` splits them (and the points) into named groups: one group "all" holding every
    case when the spec declares none."""
    id: str
    kind: str
    function: str            # "<nndl module>:<function or Class>"
    points: float
    tolerance: float
    time_limit: float
    visibility: str
    cases: tuple = ()
    scoring: str = "by_group"   # by_group: each group's share when all its cases pass;
    #                             all_cases: points only if every case passes; per_case: share
    extras: dict = field(default_factory=dict)
    section: str = ""        # "<notebook>: <heading>" the item grades (shown in the feedback)
    groups: tuple = ()       # CaseGroup, in spec order
    side_effect_charge: float = 0.0  # fraction of the points a write into an argument costs

    def group_of_builder(self, builder: str) -> "CaseGroup":
        """The group holding a case builder (the only group when the spec declares none)."""
        for group in self.groups:
            if builder in group.cases:
                return group
        raise KeyError("item %s: no group holds the cases %r" % (self.id, builder))

    @property
    def module(self):
        return self.function.split(":", 1)[0]

    @property
    def function_name(self):
        """The graded function as a student writes it: nndl.<module>.<function or Class>."""
        return "nndl.%s.%s" % (self.module, self.qualname)

    @property
    def qualname(self):
        return self.function.split(":", 1)[1]


@dataclass(frozen=True)
class SimilarityPolicy:
    """[similarity]: when two submissions are flagged (autograder/similarity/)."""
    threshold: float = 0.5           # share of one's graded functions found in the other's
    min_function_tokens: int = 60    # and at least this many function k-grams shared
    function_tokens: int = 12        # k: graded functions are compared in runs of k tokens
    min_shared_tokens: int = 150     # whole files (a fallback): tokens shared at least
    common_share: float = 0.1        # a passage in more than this share of the class ...
    common_min: int = 4              # ... and in at least this many submissions: boilerplate
    against: str = ""                # prior work: a folder of earlier submissions (spec-relative)
    list_from: float = 0.25          # similarity.csv lists the pairs from this similarity up
    noise_tokens: int = 25           # copydetect noise threshold k: shorter matches are ignored
    guarantee_tokens: int = 30       # copydetect guarantee threshold: longer ones are always found
    html_max_pairs: int = 100        # pairs shown side by side in similarity.html
    model_rel_distance: float = 1e-3  # cnn_model.npz weights this close (relative) are flagged
    max_code_tokens: int = 100000    # budget: code heavier than this (comments, docstrings and
    # blank lines weigh nothing) is not compared but listed for review by hand


@dataclass(frozen=True)
class LatePolicy:
    """[late]: the deadline and the penalty (autograder/policy/late.py). No deadline: off."""
    deadline: str = ""               # ISO 8601 with a UTC offset, e.g. 2026-12-11T23:59:00-08:00
    grace_minutes: float = 0         # submissions this late count as on time
    unit: str = "day"                # "day" or "hour": each started unit late costs penalty_per_unit
    penalty_per_unit: float = 0.1    # fraction of the raw score
    max_penalty: float = 1.0         # cap on the fraction taken
    extensions: str = ""             # CSV (student or submission id, deadline or extra days)
    submission_times: str = ""       # CSV (submission id, submitted_at) when not from Gradescope


@dataclass(frozen=True)
class OverridesPolicy:
    """[overrides]: the staff's score overrides (autograder/policy/overrides.py); "" = none.
    `grade --overrides FILE` names another file for one run."""
    file: str = ""                   # CSV beside the spec: submission, item, points or delta, ...


@dataclass(frozen=True)
class LeaderboardPolicy:
    """[leaderboard]: Gradescope's leaderboard from the accuracy item (off by default)."""
    enabled: bool = False
    item: str = "cnn.ThreeLayerConvNet.accuracy"
    name: str = "Validation accuracy"


@dataclass(frozen=True)
class EnvironmentPolicy:
    """[environment]: the Python and numpy the grader runs (autograder/environment.py). The
    release pins them in the student's install files, the self-check warns when a student's
    differ, and results.json records the grader's own."""
    python: str = "3.11"             # minor version, "major.minor"
    numpy: str = "2.4"               # minor series, "major.minor"


@dataclass(frozen=True)
class Spec:
    settings: Settings
    items: tuple
    similarity: SimilarityPolicy = SimilarityPolicy()
    late: LatePolicy = LatePolicy()
    leaderboard: LeaderboardPolicy = LeaderboardPolicy()
    environment: EnvironmentPolicy = EnvironmentPolicy()
    overrides: OverridesPolicy = OverridesPolicy()

    def item(self, item_id: str) -> Item:
        """The item with this id; KeyError if the spec has none."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def ids(self) -> list:
        return [item.id for item in self.items]

    @property
    def total_points(self):
        return sum(item.points for item in self.items)


def _did_you_mean(name, known):
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return " (did you mean %r?)" % close[0] if close else ""


def _kind_extras(raw, item_id, kind_name):
    """The item's kind-specific keys, defaults filled in; SpecError naming the item and the key
    for an unknown key (with the nearest known one), a missing required key or a wrong type."""
    if kind_name not in kinds.names():
        raise SpecError("item %s: unknown kind %r%s (known: %s)" % (
            item_id, kind_name, _did_you_mean(kind_name, kinds.names()), ", ".join(kinds.names())))
    declared = kinds.kind(kind_name)
    own = {key.name: key for key in declared.keys}
    allowed = set(_ITEM_FIELDS) | set(_INHERITED) | set(own)
    for name in raw:
        if name not in allowed:
            raise SpecError("item %s: unknown key %r%s; a %s item takes %s" % (
                item_id, name, _did_you_mean(name, sorted(allowed)), kind_name,
                ", ".join(list(_ITEM_FIELDS) + sorted(own) + ["the [settings] keys "
                                                             + ", ".join(_INHERITED)])))
    extras = {}
    for name, key in own.items():
        if name not in raw:
            if key.default is kinds.REQUIRED:
                raise SpecError("item %s: a %s item needs the key %r (%s)"
                                % (item_id, kind_name, name, key.doc))
            if key.default is not None:   # None: optional, its reader's default applies
                extras[name] = key.default
            continue
        problem = key.problem(raw[name])
        if problem:
            raise SpecError("item %s: %s %s" % (item_id, name, problem))
        extras[name] = raw[name]
    extras.update({name: raw[name] for name in _INHERITED if name in raw})
    return declared, extras


def _parse_groups(raw, item_id):
    """The item's CaseGroups from [[item.group]] (or one group "all" of `cases`) and the
    case-builder names in order. Weights: all given or none; none gives core 2/3 of the
    item and the other groups equal parts of the rest (equal parts when there is no core)."""
    declared = raw.get("group")
    if declared is None:
        cases = raw.get("cases", ())
        cases = (cases,) if isinstance(cases, str) else tuple(cases)
        return (CaseGroup("all", cases, 1.0),) if cases else (), cases
    if "cases" in raw:
        raise SpecError("item %s: give its cases in [[item.group]] or in `cases`, not both" % item_id)
    if not isinstance(declared, list) or not declared:
        raise SpecError("item %s: [[item.group]] must be a list of tables" % item_id)
    names, weights, parsed = [], [], []
    for entry in declared:
        if not isinstance(entry, dict):
            raise SpecError("item %s: each [[item.group]] is a table" % item_id)
        for key in entry:
            if key not in _GROUP_FIELDS:
                raise SpecError("item %s: a group has no key %r%s (keys: %s)" % (
                    item_id, key, _did_you_mean(key, _GROUP_FIELDS), ", ".join(_GROUP_FIELDS)))
        name, cases = entry.get("name"), entry.get("cases")
        cases = (cases,) if isinstance(cases, str) else cases
        if not isinstance(name, str) or not name or not isinstance(cases, (list, tuple)) or \
                not cases or not all(isinstance(c, str) for c in cases):
            raise SpecError("item %s: each group needs a name and a list of case builders" % item_id)
        if name in names:
            raise SpecError("item %s: two groups are named %r" % (item_id, name))
        weight = entry.get("weight")
        if weight is not None and (isinstance(weight, bool) or not isinstance(weight, (int, float))
                                   or weight <= 0):
            raise SpecError("item %s: group %s: weight must be a positive number" % (item_id, name))
        for key in ("hint", "cause"):
            if not isinstance(entry.get(key, ""), str):
                raise SpecError("item %s: group %s: %s must be a string" % (item_id, name, key))
        names.append(name)
        weights.append(weight)
        parsed.append((name, tuple(cases), entry.get("hint", ""), entry.get("cause", "")))
    if any(w is None for w in weights) and not all(w is None for w in weights):
        raise SpecError("item %s: give every group a weight, or none (core 2/3, the rest "
                        "shared)" % item_id)
    if weights[0] is None:
        others = len([n for n in names if n != CORE_GROUP])
        if CORE_GROUP in names and others:
            weights = [CORE_DEFAULT_SHARE if n == CORE_GROUP else (1 - CORE_DEFAULT_SHARE) / others
                       for n in names]
        else:
            weights = [1.0] * len(names)
    total = float(sum(weights))
    builders = [c for _, cases, _, _ in parsed for c in cases]
    if len(set(builders)) != len(builders):
        raise SpecError("item %s: a case builder is in two groups" % item_id)
    groups = tuple(CaseGroup(name, cases, weight / total, hint, cause)
                   for (name, cases, hint, cause), weight in zip(parsed, weights))
    return groups, tuple(builders)


def _parse_item(raw, index):
    missing = [key for key in _REQUIRED if key not in raw]
    if missing:
        raise SpecError("item #%d (%s) lacks %s" % (index + 1, raw.get("id", "?"), ", ".join(missing)))
    declared, extras = _kind_extras(raw, str(raw["id"]), str(raw["kind"]))
    groups, cases = _parse_groups(raw, str(raw["id"]))
    charge = raw.get("side_effect_charge", 0.0)
    if isinstance(charge, bool) or not isinstance(charge, (int, float)) or not 0 <= charge <= 1:
        raise SpecError("item %s: side_effect_charge must be a number from 0 to 1" % raw["id"])
    item = Item(
        id=str(raw["id"]), kind=str(raw["kind"]), function=str(raw["function"]),
        points=raw["points"], tolerance=float(raw.get("tolerance", 0.0)),
        time_limit=float(raw["time_limit"]), visibility=str(raw["visibility"]),
        cases=cases, scoring=str(raw.get("scoring", "by_group")),
        section=str(raw.get("section", "")), extras=extras, groups=groups,
        side_effect_charge=float(charge))
    if item.visibility not in VISIBILITIES:
        raise SpecError("item %s: visibility must be one of %s, got %r"
                        % (item.id, VISIBILITIES, item.visibility))
    if item.scoring not in SCORINGS:
        raise SpecError("item %s: scoring must be one of %s" % (item.id, SCORINGS))
    if ":" not in item.function:
        raise SpecError("item %s: function must be '<module>:<name>', got %r" % (item.id, item.function))
    if not isinstance(item.points, (int, float)) or item.points < 0:
        raise SpecError("item %s: points must be a non-negative number" % item.id)
    if declared.needs_cases and not item.cases:
        raise SpecError("item %s: no cases" % item.id)
    return item


# Settings every check reads through its item (an item may override them).
_INHERITED = ("float32_tolerance", "error_floor_float64", "error_floor_float32",
              "numeric_tolerance", "output_limit_kb", "visible_seed")


def _with_settings(item, settings):
    extras = dict(item.extras)
    for key in _INHERITED:
        extras.setdefault(key, getattr(settings, key))
    return replace(item, extras=extras)


def parse_spec(data: dict, visible_only: bool = False, source: str = "<spec>") -> "Spec":
    """Build and validate a Spec from the parsed TOML dict."""
    raw_settings = dict(data.get("settings", {}))
    known = [f.name for f in fields(Settings) if f.name != "extras"]
    for key in raw_settings:
        if key not in known and key not in _SETTINGS_PASSED_ON:
            raise SpecError("%s: [settings] has no key %r%s" % (
                source, key, _did_you_mean(key, known + list(_SETTINGS_PASSED_ON))))
    settings = Settings(**{k: v for k, v in raw_settings.items() if k in known},
                        extras={k: v for k, v in raw_settings.items() if k not in known})
    items = [_with_settings(_parse_item(raw, i), settings)
             for i, raw in enumerate(data.get("item", []))]
    seen = set()
    for item in items:
        if item.id in seen:
            raise SpecError("%s: duplicate item id %s" % (source, item.id))
        seen.add(item.id)
    if not (visible_only or settings.visible_only):
        total = sum(item.points for item in items)
        if abs(total - settings.total_points) > 1e-9:
            raise SpecError("%s: item points sum to %s, settings.total_points is %s"
                            % (source, total, settings.total_points))
    if visible_only:
        items = [item for item in items if item.visibility == "visible"]
    environment = _parse_table(data, "environment", EnvironmentPolicy, source)
    # The checks name the grader's numpy in their hints (a removed alias); they cannot read
    # the spec themselves (it imports them), so every item carries the declared series.
    items = [replace(item, extras=dict(item.extras, grader_numpy=environment.numpy))
             for item in items]
    return Spec(settings=settings, items=tuple(items),
                similarity=_parse_table(data, "similarity", SimilarityPolicy, source),
                late=_parse_table(data, "late", LatePolicy, source),
                leaderboard=_parse_table(data, "leaderboard", LeaderboardPolicy, source),
                environment=environment,
                overrides=_parse_table(data, "overrides", OverridesPolicy, source))


# keys an older spec may still hold: (table, key) -> what replaced it
_REPLACED_KEYS = {("similarity", "max_code_kb"):
                  " (replaced by max_code_tokens: no code is cut any more; a submission "
                  "over that budget is listed for review)"}


def _parse_table(data, name, policy_class, source):
    """A policy table ([similarity], [late], [leaderboard], [environment], [overrides]): known
    keys, right types, valid values."""
    raw = dict(data.get(name, {}))
    defaults = policy_class()
    values = {}
    for key, value in raw.items():
        if not hasattr(defaults, key):
            raise SpecError("%s: [%s] has no key %r%s" % (source, name, key,
                                                         _REPLACED_KEYS.get((name, key), "")))
        default = getattr(defaults, key)
        if key == "deadline" and hasattr(value, "isoformat"):  # a TOML datetime
            value = value.isoformat()
        if isinstance(default, bool) != isinstance(value, bool) or (
                isinstance(default, (int, float)) and not isinstance(value, (int, float))) or (
                isinstance(default, str) and not isinstance(value, str)):
            raise SpecError("%s: [%s] %s must be a %s, got %r"
                            % (source, name, key, type(default).__name__, value))
        values[key] = value
    policy = policy_class(**values)
    problem = _policy_problem(policy)
    if problem:
        raise SpecError("%s: [%s] %s" % (source, name, problem))
    return policy


def _minor_version_problem(key, value):
    """Why `value` is not a "major.minor" version such as "3.11" ('' when it is)."""
    if re.fullmatch(r"[0-9]+\.[0-9]+", value):
        return ""
    return "%s must be a major.minor version such as \"3.11\" or \"2.4\", got %r" % (key, value)


def _policy_problem(policy):
    if isinstance(policy, EnvironmentPolicy):
        return (_minor_version_problem("python", policy.python)
                or _minor_version_problem("numpy", policy.numpy))
    if isinstance(policy, SimilarityPolicy):
        if not 0 < policy.threshold <= 1 or not 0 <= policy.list_from <= policy.threshold:
            return "needs 0 <= list_from <= threshold <= 1"
        if not 1 <= policy.noise_tokens <= policy.guarantee_tokens:
            return "needs 1 <= noise_tokens <= guarantee_tokens"
        if policy.function_tokens < 1 or policy.min_function_tokens < 0:
            return "needs function_tokens >= 1 and min_function_tokens >= 0"
        if not 0 < policy.common_share <= 1 or policy.common_min < 2:
            return "needs 0 < common_share <= 1 and common_min >= 2 (a passage two " \
                   "submissions share is what the report looks for)"
        if policy.model_rel_distance < 0 or policy.max_code_tokens <= 0 \
                or policy.html_max_pairs < 0:
            return "model_rel_distance, max_code_tokens and html_max_pairs must be positive"
    if isinstance(policy, LatePolicy):
        if policy.unit not in ("day", "hour"):
            return "unit must be 'day' or 'hour', got %r" % policy.unit
        if policy.penalty_per_unit < 0 or not 0 <= policy.max_penalty <= 1 \
                or policy.grace_minutes < 0:
            return "needs penalty_per_unit >= 0, 0 <= max_penalty <= 1, grace_minutes >= 0"
        if policy.deadline:
            from datetime import datetime
            try:
                when = datetime.fromisoformat(policy.deadline)
            except ValueError:
                return "deadline %r is not an ISO 8601 date and time" % policy.deadline
            if when.tzinfo is None:
                return "deadline %r needs a UTC offset (e.g. -08:00 or Z)" % policy.deadline
    return ""


def item_patterns(pattern: str = "") -> list:
    """The fnmatch patterns of an --items value: comma-separated, blanks dropped."""
    return [p.strip() for p in (pattern or "").split(",") if p.strip()]


def select_items(spec: Spec, pattern: str = "") -> list:
    """The items whose ids match one of the comma-separated fnmatch patterns (all for none)."""
    if not pattern:
        return list(spec.items)
    patterns = item_patterns(pattern)
    return [item for item in spec.items if any(fnmatch.fnmatchcase(item.id, p) for p in patterns)]


def unmatched_patterns(spec: Spec, pattern: str = "") -> list:
    """The patterns of an --items value that select no item of the spec (a typo)."""
    return [p for p in item_patterns(pattern) if not select_items(spec, p)]


def default_model_file() -> str:
    """The submitted model's file name where no spec sets one: the accuracy kind's declared
    model_file default (autograder/checks/kinds/accuracy.py, the one place it is written)."""
    from autograder.checks.kinds import accuracy
    return accuracy.MODEL_FILE


def model_file(spec: Spec) -> str:
    """The model file the spec grades: its accuracy item's model_file (the declared default
    when the spec has no accuracy item)."""
    for item in kinds.saved_model_items(spec.items):
        return str(item.extras["model_file"])
    return default_model_file()


def load_spec(path=None, visible_only: bool = False) -> Spec:
    """
    Read and validate the grading spec.

    Inputs:
    - path: a grading.toml (default: the one beside this module)
    - visible_only: keep only the visible items (and skip the points-sum check)

    Returns a Spec; raises SpecError when the file is inconsistent.
    """
    path = Path(path) if path is not None else SPEC_PATH
    with open(path, "rb") as f:
        data = tomllib.load(f)
    return parse_spec(data, visible_only=visible_only, source=str(path))
