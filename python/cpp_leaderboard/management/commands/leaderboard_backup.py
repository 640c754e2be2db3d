"""manage.py leaderboard_backup (see streamrank.django.commands)."""
from streamrank.django.commands import BackupCommand as Command

__all__ = ["Command"]
