"""manage.py leaderboard_restore (see streamrank.django.commands)."""
from streamrank.django.commands import RestoreCommand as Command

__all__ = ["Command"]
