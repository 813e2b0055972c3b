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
"""
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.fairness import build
from tests.fairness import variants as v

DEFAULT_SEED = 20261201
EXCERPT = 160


@dataclass
class Outcome:
    variant: v.Variant
    scores: dict = field(default_factory=dict)    # item -> (score, max_score)
    feedback: str = ""                            # everything results.json tells the student
    item_feedback: dict = field(default_factory=dict)
    grader_error: str = ""

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

    @property
    def fair(self):
        """Graded as its label says."""
        if self.grader_error or self.missing_items or self.false_deductions:
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
        item = test.get("extra_data", {}).get("item", test.get("name", ""))
        outcome.scores[item] = (float(test.get("score", 0)), float(test.get("max_score", 0)))
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
    F counts (variant, item) pairs."""
    correct = [o for o in outcomes if not o.variant.is_bug]
    bugs = [o for o in outcomes if o.variant.is_bug]
    full = sum(1 for o in correct if not o.lost and not o.grader_error and not o.missing_items)
    caught = sum(1 for o in bugs if o.caught)
    deductions = [points for o in outcomes for points in o.false_deductions.values()]
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
