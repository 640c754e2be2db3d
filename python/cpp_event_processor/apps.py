"""Lets ``'cpp_event_processor'`` stand in Django's INSTALLED_APPS, as the guide shows.
It has no models and does not start the JVM when Django starts."""
from django.apps import AppConfig


class CppEventProcessorConfig(AppConfig):
    name = "cpp_event_processor"
    verbose_name = "streamrank event processor"
    default_auto_field = "django.db.models.BigAutoField"
