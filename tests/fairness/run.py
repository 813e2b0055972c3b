"""The fairness suite's class run and its figures.

Every variant is written as a submission into one class folder and graded in
ONE class run (`python -m autograder grade CLASS --out GRADES --items ...`) on
every item but the accuracy (that needs a trained cnn_model.npz per submission).
Each variant's results.json is then read against its label (variants.py):

- a false deduction is an item that lost points although the variant's code is
  right for it: any lost item of a correct variant, an item outside
  `loses` + `may_lose` of a bug variant;
- a bug is caught when it loses every item in `loses` and its feedback matches
  every regex in `feedback`.

Charges: a bug's charge is the points it lost over all items / the points of the
items it touches (`loses` + `may_lose`). The grader splits items into weighted case
groups (results.json: each test's extra_data.groups, [{"name", "points", "earned",
"status", ...}]). A bug labelled `confined_to` may cost at most the points of those
groups summed over the items it touches; a bug labelled `feature` at most the largest
points of that group on one item (the grader charges a missing feature once). Points
lost on the touched items beyond that allowance are an overcharge, counted like a
false deduction (one per bug, its excess points) and making the variant misgraded.
Without groups in results.json (a grader before the groups) the allowance is 0.
"""
import json
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.fairness import build
from tests.fairness import variants as v

DEFAULT_SEED = 20261201
EXCERPT = 160
EPS = 1e-9
# Buckets of the charges' histogram: (label, upper bound, inclusive); 0 is its own bucket.
CHARGE_BUCKETS = (("0", 0.0), ("(0, 0.1]", 0.1), ("(0.1, 0.25]", 0.25), ("(0.25, 0.5]", 0.5),
                  ("(0.5, 0.75]", 0.75), ("(0.75, 1]", 1.0), ("> 1", float("inf")))


@dataclass
class Outcome:
    variant: v.Variant
    scores: dict = field(default_factory=dict)    # item -> (score, max_score)
    feedback: str = ""                            # everything results.json tells the student
    item_feedback: dict = field(default_factory=dict)
    grader_error: str = ""
    groups: dict = field(default_factory=dict)    # item -> extra_data.groups (list of dicts)

    @property
    def lost(self):
        return {item: mx - sc for item, (sc, mx) in self.scores.items() if sc < mx - 1e-9}

    @property
    def missing_items(self):
        return [item for item in v.ITEMS if item not in self.scores]

    @property
    def false_deductions(self):
        allowed = set(self.variant.loses) | set(self.variant.may_lose)
        return {item: points for item, points in self.lost.items() if item not in allowed}

    @property
    def missed_items(self):
        return [item for item in self.variant.loses if item not in self.lost]

    @property
    def missing_words(self):
        return [rx for rx in self.variant.feedback if not re.search(rx, self.feedback)]

    @property
    def caught(self):
        return self.variant.is_bug and not self.missed_items and not self.missing_words \
            and not self.grader_error and not self.missing_items

    # ---- charges ----------------------------------------------------------------------------

    @property
    def points_lost(self):
        """Points lost over all items."""
        return sum(self.lost.values())

    @property
    def points_touched(self):
        """Points of the items the bug touches (loses + may_lose) that were graded."""
        return sum(self.scores[item][1] for item in self.variant.touches if item in self.scores)

    @property
    def charge(self):
        """points_lost / points_touched (0 when it touches no graded points)."""
        return self.points_lost / self.points_touched if self.points_touched > EPS else 0.0

    def group_points(self, item, name):
        """The points of the item's group of that name (0 if the results have no such group)."""
        return sum(float(g.get("points", 0) or 0) for g in self.groups.get(item, ())
                   if g.get("name") == name)

    @property
    def allowance(self):
        """What the bug's label lets it cost on the items it touches (None: no label): the points
        of its confined groups summed over those items, plus its feature group's largest points
        on one of them (charged once)."""
        variant = self.variant
        if not variant.label_groups:
            return None
        items = variant.touches
        confined = sum(self.group_points(item, name) for item in items for name in variant.confined_to)
        feature = max((self.group_points(item, variant.feature) for item in items),
                      default=0.0) if variant.feature else 0.0
        return confined + feature

    @property
    def overcharge(self):
        """Points lost on the touched items beyond the label's allowance (0 without a label)."""
        allowance = self.allowance
        if allowance is None:
            return 0.0
        lost = sum(points for item, points in self.lost.items() if item in self.variant.touches)
        return lost - allowance if lost > allowance + EPS else 0.0

    @property
    def fair(self):
        """Graded as its label says."""
        if self.grader_error or self.missing_items or self.false_deductions or self.overcharge:
            return False
        return self.caught if self.variant.is_bug else True


def build_class(dest, variant_list=None):
    """One submission folder per variant in dest; returns the variants."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    variant_list = v.VARIANTS if variant_list is None else variant_list
    for variant in variant_list:
        build.write_submission(dest / variant.name, variant)
    return variant_list


def grade_class(class_dir, grades_dir, seed=DEFAULT_SEED, jobs=2, extra_args=(), timeout=1800,
                grader_checkout=None):
    """The one class run; returns the CompletedProcess. grader_checkout: another checkout of
    the kit whose autograder grades (e.g. an older commit, for before/after figures)."""
    command = [sys.executable, "-m", "autograder", "grade", str(class_dir), "--out", str(grades_dir),
               "--items", v.ITEM_PATTERNS, "--seed", str(seed), "--jobs", str(jobs), "--force"]
    return subprocess.run(command + list(extra_args), capture_output=True, text=True,
                          cwd=str(grader_checkout or build.REPO_ROOT), timeout=timeout)


def read_outcome(grades_dir, variant):
    path = Path(grades_dir) / variant.name / "results.json"
    outcome = Outcome(variant)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        outcome.grader_error = "no results.json (%s)" % exc
        return outcome
    texts = [data.get("output", "")]
    for test in data.get("tests", []):
        extra = test.get("extra_data", {}) or {}
        item = extra.get("item", test.get("name", ""))
        outcome.scores[item] = (float(test.get("score", 0)), float(test.get("max_score", 0)))
        if isinstance(extra.get("groups"), list):
            outcome.groups[item] = [g for g in extra["groups"] if isinstance(g, dict)]
        outcome.item_feedback[item] = test.get("output", "")
        texts.append(test.get("output", ""))
    outcome.feedback = "\n".join(texts)
    outcome.grader_error = str(data.get("extra_data", {}).get("grader_error") or "")
    return outcome


def read_outcomes(grades_dir, variant_list=None):
    variant_list = v.VARIANTS if variant_list is None else variant_list
    return [read_outcome(grades_dir, variant) for variant in variant_list]


def figures(outcomes):
    """`fairness: C/Nc correct at full credit, B/Nb bugs caught, F false deductions (P points)`;
    F counts (variant, item) pairs, and each overcharged bug once (P: its excess points)."""
    correct = [o for o in outcomes if not o.variant.is_bug]
    bugs = [o for o in outcomes if o.variant.is_bug]
    full = sum(1 for o in correct if not o.lost and not o.grader_error and not o.missing_items)
    caught = sum(1 for o in bugs if o.caught)
    deductions = [points for o in outcomes for points in o.false_deductions.values()]
    deductions += [o.overcharge for o in outcomes if o.overcharge]
    return ("fairness: %d/%d correct at full credit, %d/%d bugs caught, %d false deductions "
            "(%g points)" % (full, len(correct), caught, len(bugs), len(deductions), sum(deductions)))


def _excerpt(text):
    text = " ".join(text.split())
    return text[:EXCERPT] + ("..." if len(text) > EXCERPT else "")


def misgraded(outcomes):
    """(variant, expected, got, feedback excerpt) for every variant not graded as its label says."""
    rows = []
    for o in outcomes:
        if o.fair:
            continue
        if o.variant.is_bug:
            expected = "loses %s%s; feedback %s" % (
                ", ".join(o.variant.loses),
                (" (may lose %s)" % ", ".join(o.variant.may_lose)) if o.variant.may_lose else "",
                " + ".join("/%s/" % rx for rx in o.variant.feedback))
            if o.variant.label_groups:
                expected += "; costs at most its groups %s" % "/".join(o.variant.label_groups)
        else:
            expected = "full credit"
        got = []
        if o.grader_error:
            got.append("grader error: " + _excerpt(o.grader_error))
        if o.missing_items:
            got.append("no score for %s" % ", ".join(o.missing_items))
        got += ["lost %g on %s (false)" % (p, item) for item, p in o.false_deductions.items()]
        if o.variant.is_bug:
            got += ["kept %s" % item for item in o.missed_items]
            got += ["no /%s/ in feedback" % rx for rx in o.missing_words]
        if o.overcharge:
            got.append("charged %g points on the items it touches, %g beyond its groups %s "
                       "(%g points)" % (o.overcharge + o.allowance, o.overcharge,
                                        "/".join(o.variant.label_groups), o.allowance))
        focus = list(o.false_deductions) or o.missed_items or list(o.variant.loses)
        excerpt = " | ".join(_excerpt(o.item_feedback.get(item, "")) for item in focus[:2])
        rows.append((o.variant.name, expected, "; ".join(got), excerpt))
    return rows


def table(rows):
    """The misgraded variants as a plain-text table (one block per variant)."""
    if not rows:
        return "no misgraded variants"
    lines = ["misgraded variants (%d):" % len(rows)]
    for name, expected, got, excerpt in rows:
        lines += ["- %s" % name, "    expected: %s" % expected, "    got:      %s" % got,
                  "    feedback: %s" % excerpt]
    return "\n".join(lines)


# ---- charges -------------------------------------------------------------------------------

def charges(outcomes):
    """(variant, points lost, points touched, share, allowance or None, overcharge) per bug."""
    return [(o.variant.name, o.points_lost, o.points_touched, o.charge, o.allowance, o.overcharge)
            for o in outcomes if o.variant.is_bug]


def charge_table(rows):
    """The charges as a plain-text table, one line per bug (`!` marks an overcharge)."""
    if not rows:
        return "no bugs"
    width = max(len(r[0]) for r in rows)
    lines = ["%-*s  %6s  %7s  %5s  %s" % (width, "variant", "lost", "touched", "share", "allowed")]
    for name, lost, touched, share, allowance, over in rows:
        lines.append("%-*s  %6.2f  %7.2f  %5.2f  %s%s" % (
            width, name, lost, touched, share, "" if allowance is None else "%.2f" % allowance,
            "  ! %.2f over" % over if over else ""))
    return "\n".join(lines)


def charge_distribution(rows):
    """The charges' mean, median and histogram over CHARGE_BUCKETS, as text."""
    shares = [row[3] for row in rows]
    if not shares:
        return "charges: no bugs"
    counts = {label: 0 for label, _ in CHARGE_BUCKETS}
    for share in shares:
        if share <= EPS:
            counts["0"] += 1
            continue
        label = next(label for label, upper in CHARGE_BUCKETS[1:] if share <= upper + EPS)
        counts[label] += 1
    over = sum(1 for row in rows if row[5])
    lines = ["charges (points lost / points of the items touched) of %d bugs: mean %.2f, "
             "median %.2f; %d charged beyond their groups"
             % (len(shares), statistics.mean(shares), statistics.median(shares), over)]
    width = max(len(label) for label, _ in CHARGE_BUCKETS)
    for label, _ in CHARGE_BUCKETS:
        lines.append("  %-*s %3d %s" % (width, label, counts[label], "#" * counts[label]))
    return "\n".join(lines)


def report(outcomes):
    """What `python -m tests.fairness` prints: the figures line, the charges' distribution and
    table, the misgraded variants."""
    rows = charges(outcomes)
    return "\n".join([figures(outcomes), charge_distribution(rows), charge_table(rows),
                      table(misgraded(outcomes))])
