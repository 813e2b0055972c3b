"""What grading one submission produced, and its results.json: the typed result (model), the
records beside the scores (records), the Gradescope schema (schema) and the file (store).
"""
