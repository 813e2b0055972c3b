"""What the reports show about an item beyond its score: from the spec item and the checks'
verdict, as keyword arguments of autograder.results.model.ItemResult.

Runs in the grader on the checks' plain results (numbers and arrays already parsed with
limits); nothing here touches the submission.
"""
import math

from autograder.checks import kinds
from autograder.checks.kinds.accuracy import Rule

ACCURACY_NUMBERS = ("val", "validation", "heldout", "credited")
# grade/run_accuracy.py's names of the held-out images (plain strings: report/ imports no grade/)
HELDOUT_SOURCES = ("the course's held-out file", "the public test batch, transformed")


def item_facts(item, verdict=None):
    """{ItemResult field: value} for a spec item and its verdict (None: the item did not run)."""
    facts = {"section": item.section, "function": item.function_name, "scoring": item.scoring}
    outcomes = list(getattr(verdict, "outcomes", None) or [])
    saved_model = kinds.declares(item.kind, "grades_saved_model")
    if not saved_model and outcomes:
        facts["cases_total"] = len(outcomes)
        facts["cases_passed"] = sum(1 for o in outcomes if o.status == "passed")
        facts["differences"] = smallest_differences(outcomes)
    if saved_model:
        facts["accuracy"] = accuracy_facts(item, outcomes[0].data if outcomes else {})
    return facts


def smallest_differences(outcomes):
    """The differences of the failing case to picture: one where some entries are right (its
    pattern says more than "everything differs"; a tiny output is often wrong everywhere),
    then the smallest (the easiest to read, the closest to the notebook's small cases)."""
    candidates = [o.differences for o in outcomes
                  if o.status != "passed" and getattr(o, "differences", None)]
    if not candidates:
        return {}

    def preference(differences):
        wrong_everywhere = all(bool(d.wrong.all()) for d in differences.values())
        return wrong_everywhere, sum(int(math.prod(d.shape)) for d in differences.values())
    return dict(min(candidates, key=preference))


def accuracy_facts(item, data):
    """The accuracy rule's numbers: the spec's thresholds and margin, the measured accuracies,
    the credited value min(validation, held-out + margin)."""
    rule = Rule.of(item.extras)
    facts = {"full_credit_at": rule.full_credit_at, "zero_credit_at": rule.zero_credit_at,
             "margin": rule.margin}
    val = _number(data.get("val", data.get("validation")))
    heldout = _number(data.get("heldout"))
    if val is not None:
        facts["validation"] = val
    if heldout is not None:
        facts["heldout"] = heldout
    credited = _number(data.get("credited"))
    if credited is None and val is not None:
        credited = rule.credited(val, heldout)
    if credited is not None:
        facts["credited"] = credited
    per_class = data.get("per_class_val")
    try:
        per_class = [float(v) for v in per_class] if per_class is not None else None
    except (TypeError, ValueError):
        per_class = None
    if per_class and len(per_class) <= 100 and all(math.isfinite(v) for v in per_class):
        facts["per_class_val"] = per_class
        names = data.get("class_names")
        if isinstance(names, (list, tuple)) and len(names) == len(per_class):
            facts["class_names"] = [str(n) for n in names]
    evaluation = data.get("heldout_evaluation")
    if evaluation is not None:
        facts["heldout_evaluation"] = evaluation
    if data.get("heldout_source") in HELDOUT_SOURCES:
        facts["heldout_source"] = data["heldout_source"]
    reason = data.get("review_reason")
    if evaluation != "trusted" and isinstance(reason, str) and reason:
        facts["review_reason"] = reason[:300]
    return facts


def _number(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
