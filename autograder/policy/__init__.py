"""The course's rules around the scores: the late policy (late), the leaderboard (leaderboard)
and the staff's overrides (overrides), each read from the spec's tables and the staff's CSVs.
"""
