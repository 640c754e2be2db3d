"""Minimal settings for the system-check and start-up tests: the guide's two apps, no project
URLs (the example's views create the guide's objects at import, which would start the JVM)."""
SECRET_KEY = "check-settings"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "cpp_event_processor", "cpp_leaderboard"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
ROOT_URLCONF = "check_urls"
USE_TZ = True
STREAMRANK = {"LEADERBOARD": {"decay_factor": 0.95, "max_users": 100}}
