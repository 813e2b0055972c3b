"""The grader's own files: written atomically (atomic), and CSV cells that no spreadsheet
reads as a formula (csv_cells). The lowest layer: it knows nothing of grading.
"""
