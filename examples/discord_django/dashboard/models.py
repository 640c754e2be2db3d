"""What the demo adds to the guide's models: channel names for the dashboard."""
from django.db import models


class Channel(models.Model):
    channel_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    university = models.CharField(max_length=100, blank=True, default="")

    def __str__(self):
        return f"#{self.name}"
