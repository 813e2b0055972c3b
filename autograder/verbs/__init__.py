"""The command line's verbs that choose between one submission and a class (grade), or run
over a graded class (similarity, heldout): `python -m autograder VERB` (autograder.__main__).
"""
