"""Lets ``'cpp_event_processor'`` stand in Django's INSTALLED_APPS, as the guide shows.
It has no models and does not start the JVM when Django starts. Installing it also brings
streamrank's system check and management commands (see streamrank.django)."""
from django.apps import AppConfig


class CppEventProcessorConfig(AppConfig):
    name = "cpp_event_processor"
    verbose_name = "streamrank event processor"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers streamrank's system checks (Java 17+ present, core jar found). Starts no JVM.
        from streamrank.django import checks  # noqa: F401
