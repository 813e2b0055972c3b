"""What a regrade changed: GRADES_DIR/changes.csv, so a grading fix never silently lowers someone.

Before a class run replaces any report, keep_previous() copies each results.json it is
about to regrade to GRADES_DIR/<id>/results.previous.json (kept: an interrupted regrade
resumed later still compares with the scores from before it). At the end of the run,
write_changes() compares every kept copy with the new results.json and writes one row
per submission whose total, any item or any override changed: old and new total (after any
late penalty), the difference, the items with their old and new points, and the staff's
overrides the regrade added, removed, or kept over a changed grader's score. A submission
graded for the first time has no previous copy and no row. Once changes.csv is
written the copies are removed, so the next regrade is compared with this one.
"""
import io
import os

from autograder.policy import overrides
from autograder.results import records, store
from autograder.files import atomic, csv_cells

PREVIOUS_FILE = "results.previous.json"
CHANGES_FILE = "changes.csv"
COLUMNS = ("submission", "old_total", "new_total", "change", "lowered", "items_changed",
           "overrides")


def keep_previous(grades_dir, ids):
    """Copy the results.json of each id about to be regraded (if any, and not kept already)."""
    for sid in ids:
        kept = os.path.join(grades_dir, sid, PREVIOUS_FILE)
        if not os.path.lexists(kept):
            store.copy(os.path.join(grades_dir, sid), kept)


def _scores(path):
    """(total after late penalty, {item: score}, {item: applied override record}) of a
    results.json, or None."""
    data = store.load_file(path)
    try:
        items = {t["extra_data"]["item"]: float(t["score"]) for t in data.get("tests", [])}
        total = float(data.get("score", 0))
        overridden = overrides.by_item(records.overrides(data))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    late = records.late(data) or {}
    return round(total * (1 - float(late.get("fraction") or 0)), 4), items, overridden


def _override_changes(old, new):
    """The overrides a regrade added, kept with another grader's score, or removed."""
    notes = []
    for item, record in new.items():
        before = old.get(item)
        if before is None:
            notes.append("added " + overrides.summary(record))
        elif before.get("grader_score") != record["grader_score"] or \
                before.get("score") != record["score"]:
            notes.append("kept " + overrides.summary(record) + " (grader's score was %s)"
                         % _n(before.get("grader_score")))
    notes += ["removed %s (was %s)" % (item, overrides.summary(record))
              for item, record in old.items() if item not in new]
    return notes


def changed_rows(grades_dir):
    """[row per COLUMNS] for every submission with a kept previous results.json that changed."""
    rows = []
    for sid in sorted(os.listdir(grades_dir)):
        kept = os.path.join(grades_dir, sid, PREVIOUS_FILE)
        if not os.path.isfile(kept):
            continue
        old, new = _scores(kept), _scores(store.path_in(os.path.join(grades_dir, sid)))
        if old is None or new is None:
            continue
        (old_total, old_items, old_overrides), (new_total, new_items, new_overrides) = old, new
        items = ["%s: %s -> %s" % (item, _n(old_items.get(item)), _n(new_items.get(item)))
                 for item in list(old_items) + [i for i in new_items if i not in old_items]
                 if old_items.get(item) != new_items.get(item)]
        notes = _override_changes(old_overrides, new_overrides)
        if items or notes or old_total != new_total:
            rows.append([sid, _n(old_total), _n(new_total), _n(round(new_total - old_total, 4)),
                         "yes" if new_total < old_total else "", "; ".join(items),
                         "; ".join(notes)])
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
