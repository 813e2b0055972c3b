"""From per-case verdicts (checks.outcome.CheckOutcome) to one report.model.ItemResult."""
from autograder.checks import diagnosis
from autograder.checks.cases import label_of
from autograder.report.model import ItemResult

MAX_CASE_LINES = 6


def item_result(item, cases, outcomes, seconds=0.0, preface=""):
    """
    Score by the item's scoring rule: 'all_cases' gives the points only when every case
    passes, scaled by the smallest case fraction (so partial-credit kinds such as timing
    keep their partial credit); 'per_case' gives the mean fraction.
    """
    fractions = [max(0.0, min(1.0, float(o.fraction))) for o in outcomes]
    if not fractions:
        fraction = 0.0
    elif item.scoring == "per_case":
        fraction = sum(fractions) / len(fractions)
    else:
        fraction = min(fractions)
    score = round(item.points * fraction, 4)
    passed = bool(outcomes) and all(o.status == "passed" for o in outcomes) and fraction == 1.0
    lines = [preface] if preface else []
    failing = [(c, o) for c, o in zip(cases, outcomes) if o.status != "passed"]
    for case, outcome in failing[:MAX_CASE_LINES]:
        label = label_of(case) if case is not None else ""
        lines.append(("case %s:\n" % label if label else "") + _indent(outcome.message))
    if len(failing) > MAX_CASE_LINES:
        lines.append("... and %d more failing cases" % (len(failing) - MAX_CASE_LINES))
    hints = []
    for outcome in outcomes:
        for hint in outcome.hints:
            if hint not in hints:
                hints.append(hint)
    if cases and all(c is not None for c in cases):
        for rule in diagnosis.CROSS_CASE_RULES:
            for hint in rule(cases, outcomes):
                if hint not in hints:
                    hints.append(hint)
    if hints:
        lines.append("Hints:\n" + "\n".join("- " + h for h in hints))
    notes = []
    for outcome in outcomes:
        for note in outcome.notes:
            if note not in notes:
                notes.append(note)
    if notes:
        lines.append("\n".join(notes))
    if passed and not lines:
        lines.append("passed (%d case%s)" % (len(outcomes), "" if len(outcomes) == 1 else "s"))
    return ItemResult(item_id=item.id, title=item.id, score=score, max_score=float(item.points),
                      passed=passed, output="\n".join(lines).strip(),
                      visibility="visible" if item.visibility == "visible" else "after_published",
                      kind=item.kind, seconds=seconds)


def failed_item(item, message, seconds=0.0):
    """An item that could not be checked at all (nothing to grade, or a grader problem)."""
    return ItemResult(item_id=item.id, title=item.id, score=0.0, max_score=float(item.points),
                      passed=False, output=message,
                      visibility="visible" if item.visibility == "visible" else "after_published",
                      kind=item.kind, seconds=seconds)


def _indent(text):
    return "\n".join("  " + line for line in (text or "").splitlines())
