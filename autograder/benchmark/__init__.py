"""Benchmarks of the grader: a class run (`python -m autograder.benchmark`, grading.py) and the
similarity report of a class; they build their own classes and never import the tests."""
