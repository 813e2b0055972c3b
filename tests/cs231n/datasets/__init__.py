"""Tests of cs231n.datasets."""
