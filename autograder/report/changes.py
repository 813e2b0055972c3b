"""What a regrade changed: GRADES_DIR/changes.csv, so a grading fix never silently lowers someone.

Before a class run replaces any report, keep_previous() copies each results.json it is
about to regrade to GRADES_DIR/<id>/results.previous.json (kept: an interrupted regrade
resumed later still compares with the scores from before it). At the end of the run,
write_changes() compares every kept copy with the new results.json and writes one row
per submission whose total or any item changed: old and new total (after any late
penalty), the difference, and the items with their old and new points. A submission
graded for the first time has no previous copy and no row. Once changes.csv is
written the copies are removed, so the next regrade is compared with this one.
"""
import io
import json
import os
import shutil

from autograder.report import RESULTS_FILE, atomic, csv_cells

PREVIOUS_FILE = "results.previous.json"
CHANGES_FILE = "changes.csv"
COLUMNS = ("submission", "old_total", "new_total", "change", "lowered", "items_changed")


def keep_previous(grades_dir, ids):
    """Copy the results.json of each id about to be regraded (if any, and not kept already)."""
    for sid in ids:
        current = os.path.join(grades_dir, sid, RESULTS_FILE)
        kept = os.path.join(grades_dir, sid, PREVIOUS_FILE)
        if os.path.isfile(current) and not os.path.islink(current) and not os.path.exists(kept):
            partial = kept + ".part"
            shutil.copyfile(current, partial, follow_symlinks=False)
            os.replace(partial, kept)


def _scores(path):
    """(total after late penalty, {item: score}) of a results.json, or None."""
    try:
        with open(path) as f:
            data = json.load(f)
        items = {t["extra_data"]["item"]: float(t["score"]) for t in data.get("tests", [])}
        total = float(data.get("score", 0))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    late = (data.get("extra_data") or {}).get("late") or {}
    return round(total * (1 - float(late.get("fraction") or 0)), 4), items


def changed_rows(grades_dir):
    """[row per COLUMNS] for every submission with a kept previous results.json that changed."""
    rows = []
    for sid in sorted(os.listdir(grades_dir)):
        kept = os.path.join(grades_dir, sid, PREVIOUS_FILE)
        if not os.path.isfile(kept):
            continue
        old, new = _scores(kept), _scores(os.path.join(grades_dir, sid, RESULTS_FILE))
        if old is None or new is None:
            continue
        (old_total, old_items), (new_total, new_items) = old, new
        items = ["%s: %s -> %s" % (item, _n(old_items.get(item)), _n(new_items.get(item)))
                 for item in list(old_items) + [i for i in new_items if i not in old_items]
                 if old_items.get(item) != new_items.get(item)]
        if items or old_total != new_total:
            rows.append([sid, _n(old_total), _n(new_total), _n(round(new_total - old_total, 4)),
                         "yes" if new_total < old_total else "", "; ".join(items)])
    return rows


def write_changes(grades_dir):
    """Write changes.csv when this grades folder has kept previous results; returns the
    number of changed submissions, or None when nothing was regraded."""
    try:
        kept = [sid for sid in os.listdir(grades_dir)
                if os.path.isfile(os.path.join(grades_dir, sid, PREVIOUS_FILE))]
    except OSError:
        return None
    if not kept:
        return None
    rows = changed_rows(grades_dir)
    out = io.StringIO()
    writer = csv_cells.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    atomic.write_text(os.path.join(grades_dir, CHANGES_FILE), out.getvalue())
    for sid in kept:  # recorded: the next regrade compares with the reports of this one
        os.remove(os.path.join(grades_dir, sid, PREVIOUS_FILE))
    return len(rows)


def _n(value):
    if value is None:
        return "(none)"
    value = round(float(value), 4)
    return ("%d" % value) if value == int(value) else ("%g" % value)
