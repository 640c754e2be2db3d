"""Lets ``'cpp_leaderboard'`` stand in Django's INSTALLED_APPS, as the guide shows.
It has no models and does not start the JVM when Django starts."""
from django.apps import AppConfig


class CppLeaderboardConfig(AppConfig):
    name = "cpp_leaderboard"
    verbose_name = "streamrank leaderboard"
    default_auto_field = "django.db.models.BigAutoField"
