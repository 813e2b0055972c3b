"""Running student code: worker processes under an isolation level (bubblewrap, unshare,
rlimits), limits, uid slots; only arrays and JSON come back. It knows nothing of grading.
"""
