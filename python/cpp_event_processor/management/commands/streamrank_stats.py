"""manage.py streamrank_stats (see streamrank.django.commands)."""
from streamrank.django.commands import StatsCommand as Command

__all__ = ["Command"]
