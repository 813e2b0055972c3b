"""Exporting class-run scores to other tools (nbgrader_gradebook: an nbgrader gradebook.db)."""
