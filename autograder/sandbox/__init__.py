"""Running student code: worker processes, isolation levels, limits, uid slots."""
