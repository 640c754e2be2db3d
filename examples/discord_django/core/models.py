"""The two models DJANGO_INTEGRATION.md uses: the event log the processor fills in batches, and
the community's users (the leaderboard's source of truth)."""
from django.db import models
from django.utils import timezone


class DiscordEventLog(models.Model):
    """One Discord event (message, reaction...). Written in batches by ``flush_events_to_db``."""

    event_type = models.CharField(max_length=32)
    user_id = models.CharField(max_length=64, db_index=True)
    channel_id = models.CharField(max_length=64, db_index=True)
    message_id = models.CharField(max_length=64, blank=True, default="")
    timestamp = models.DateTimeField(default=timezone.now, db_index=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["event_type", "timestamp"])]

    def __str__(self):
        return f"{self.event_type} by {self.user_id} in {self.channel_id} at {self.timestamp:%Y-%m-%d %H:%M:%S}"


class User(models.Model):
    """A community member. ``total_points`` is the undecayed sum of awarded points; the
    leaderboard ranks by the time-decayed score (see the guide's section 2)."""

    ROLE_CHOICES = [("student", "Student"), ("mentor", "Mentor"), ("admin", "Admin")]

    discord_id = models.CharField(max_length=64, unique=True)
    display_name = models.CharField(max_length=100)
    university = models.CharField(max_length=100, blank=True, default="")
    role = models.CharField(max_length=16, choices=ROLE_CHOICES, default="student", db_index=True)
    total_points = models.IntegerField(default=0)
    # Set explicitly (not auto_now): seeds carry history, and queryset .update() calls (which
    # auto_now ignores) set it too.
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.display_name} ({self.discord_id})"
