"""The student release from the instructor's source: nndl stubs from the reference's solution
markers, the notebooks through nbgrader, the shipped autograder files (build.py runs it all).
"""
