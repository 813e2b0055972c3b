"""Gradescope's leaderboard (results.json top-level `leaderboard`), from the accuracy item.

Off unless the spec's [leaderboard] says `enabled = true`. Gradescope's format is a list
of {"name", "value"[, "order": "asc"]}; higher values rank first by default. The value
is the validation accuracy (percent) the accuracy item measured on the student's model.
"""


def leaderboard_extra(policy, spec_items, extra):
    """{"leaderboard": [...]} for result.extra, or {} when off or nothing was measured."""
    if not policy.enabled or policy.item not in spec_items:
        return {}
    measured = (extra.get("accuracy") or {}).get("val")
    if not isinstance(measured, float):
        return {}
    return {"leaderboard": [{"name": policy.name, "value": round(100 * measured, 2)}]}
