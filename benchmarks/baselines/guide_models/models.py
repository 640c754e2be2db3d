"""The guide's models (DJANGO_INTEGRATION.md): the fields its code reads and writes."""
from django.db import models


class DiscordEventLog(models.Model):
    event_type = models.CharField(max_length=32)
    user_id = models.CharField(max_length=32)
    channel_id = models.CharField(max_length=32)
    message_id = models.CharField(max_length=32, blank=True, default="")
    metadata = models.JSONField(default=dict)
    timestamp = models.DateTimeField(auto_now_add=False, null=True)

    class Meta:
        app_label = "guide_models"


class User(models.Model):
    discord_id = models.CharField(max_length=32, unique=True)
    display_name = models.CharField(max_length=100, default="")
    university = models.CharField(max_length=100, blank=True, default="")
    role = models.CharField(max_length=16, default="student")
    total_points = models.IntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        app_label = "guide_models"
