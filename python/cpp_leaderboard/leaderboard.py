"""Placeholder until the leaderboard lands (issue 8)."""


class Leaderboard:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("Leaderboard is not implemented yet")
