"""Check the nbgrader metadata and cell ids of the instructor notebooks.

nbgrader reads each cell's `metadata.nbgrader`; the kit adds one rule: a cell's
id is its grade_id, unique across the three notebooks, so outputs, checksums and
the release tests can name cells by id across edits. A cell added in Jupyter
has a random id and no nbgrader metadata: `lock_new_cells` makes it a read-only
provided cell (the instructor then gives it a better id if they like).
"""
import re

import nbformat

from autograder.release import reference_values

SCHEMA_VERSION = 3
GRADE_ID = re.compile(r"^[A-Za-z0-9_-]+$")  # what nbgrader accepts as a grade_id
FLAGS = ("grade", "solution", "locked", "task")


def _cell_problems(cell, where):
    meta = cell.metadata.get("nbgrader")
    if not isinstance(meta, dict):
        return ["%s: no nbgrader metadata (a cell added in Jupyter? run "
                "`python -m autograder.release.authoring check --fix` to lock it)" % where]
    found = []
    if meta.get("schema_version") != SCHEMA_VERSION:
        found.append("%s: nbgrader schema_version %r, not %d"
                     % (where, meta.get("schema_version"), SCHEMA_VERSION))
    for flag in FLAGS:
        if not isinstance(meta.get(flag), bool):
            found.append("%s: nbgrader %r must be true or false" % (where, flag))
    if meta.get("grade_id") != cell.get("id"):
        found.append("%s: grade_id %r differs from the cell id" % (where, meta.get("grade_id")))
    if not GRADE_ID.match(str(cell.get("id", ""))):
        found.append("%s: the id may only hold letters, digits, '-' and '_'" % where)
    if meta.get("task"):
        found.append("%s: task cells are not used in this kit" % where)
    if bool(meta.get("locked")) == bool(meta.get("solution")):
        found.append("%s: a cell is either locked (provided) or a solution (the student's)" % where)
    if meta.get("grade"):
        points = meta.get("points")
        if cell.cell_type != "code":
            found.append("%s: a graded cell must be a code cell" % where)
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
            found.append("%s: a graded cell needs points > 0 (got %r)" % (where, points))
    elif "points" in meta:
        found.append("%s: points on a cell that is not graded" % where)
    if meta.get("solution") and ("### BEGIN SOLUTION" not in cell.source
                                 or "### END SOLUTION" not in cell.source):
        found.append("%s: a solution cell needs ### BEGIN SOLUTION / ### END SOLUTION" % where)
    if "### BEGIN HIDDEN TESTS" in cell.source and not meta.get("grade"):
        found.append("%s: hidden tests outside a graded cell would ship to students" % where)
    if reference_values.is_tagged(cell):
        try:
            reference_values.find_quotes(cell.source, where)
        except reference_values.QuoteError as error:
            found.append(str(error))
    return found


def problems(notebooks):
    """Problems of {name: notebook} as readable lines ([] when all is well)."""
    found, seen = [], {}
    for name, nb in notebooks.items():
        try:
            nbformat.validate(nb)
        except nbformat.ValidationError as error:
            found.append("%s: not a valid notebook (%s)" % (name, error.message))
        for index, cell in enumerate(nb.cells):
            cell_id = cell.get("id")
            where = "%s cell %d (id %s)" % (name, index, cell_id)
            found += _cell_problems(cell, where)
            if cell_id in seen:
                found.append("%s: id also used by %s" % (where, seen[cell_id]))
            seen.setdefault(cell_id, where)
    return found


def lock_new_cells(nb):
    """Give every cell without nbgrader metadata a locked, provided cell's; returns
    their ids."""
    locked = []
    for cell in nb.cells:
        if "nbgrader" not in cell.metadata:
            cell.metadata["nbgrader"] = {"grade": False, "grade_id": cell.id, "locked": True,
                                         "schema_version": SCHEMA_VERSION, "solution": False,
                                         "task": False}
            locked.append(cell.id)
    return locked
