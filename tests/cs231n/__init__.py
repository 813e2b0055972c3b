"""Tests of the provided cs231n framework."""
