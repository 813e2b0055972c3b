"""Exporting a class run's scores to other tools: Canvas's gradebook CSV (canvas) and an
nbgrader gradebook.db (nbgrader_gradebook).
"""
