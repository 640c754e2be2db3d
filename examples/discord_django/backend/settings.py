"""Settings of the discord_django example: the project DJANGO_INTEGRATION.md describes.

Database: SQLite in ``data/`` by default (nothing to install). ``DISCORD_DJANGO_DB=postgres``
selects PostgreSQL from the ``STREAMRANK_PG_*`` variables that ``scripts/ensure_postgres.sh``
prints (host, port, user, password, database).
``DISCORD_DJANGO_HOME`` moves ``BASE_DIR`` (and with it ``data/``: the SQLite file and the
guide's leaderboard backup), so tests and demo runs can use a throwaway folder.
"""
import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = Path(os.environ.get("DISCORD_DJANGO_HOME", PROJECT_DIR))

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "discord-django-example-not-for-production")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # As the guide's step 2 says. Both are plain apps (no models); adding them starts no JVM.
    # They bring the streamrank system check and the leaderboard_backup / leaderboard_restore /
    # streamrank_stats management commands.
    "cpp_event_processor",
    "cpp_leaderboard",
    "core",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "backend.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "backend.wsgi.application"

if os.environ.get("DISCORD_DJANGO_DB", "sqlite") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ.get("STREAMRANK_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("STREAMRANK_PG_PORT", "5432"),
            "USER": os.environ.get("STREAMRANK_PG_USER", "postgres"),
            "PASSWORD": os.environ.get("STREAMRANK_PG_PASSWORD", ""),
            "NAME": os.environ.get("STREAMRANK_PG_DB", "postgres"),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "data" / "db.sqlite3",
            # The processor writes from its worker threads while requests read: WAL lets readers
            # and one writer work at once, IMMEDIATE takes the write lock at BEGIN (so a
            # transaction never fails upgrading a read lock), and writers queue for up to 20 s.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            },
            # A file (not :memory:) so the worker threads' own connections see the test data.
            "TEST": {"NAME": str(BASE_DIR / "data" / "test_db.sqlite3")},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

# streamrank.django's per-process singletons (see python/streamrank/django/__init__.py). The
# guide's code below creates its own module-level objects; these settings serve the management
# commands (leaderboard_backup, leaderboard_restore, streamrank_stats).
STREAMRANK = {
    "PROCESSOR": {"buffer_size": 16384, "num_threads": 4, "batch_size": 500, "flush_interval_ms": 1000},
    "FLUSH_CALLBACK": "core.cpp_integration.flush_events_to_db",
    "LEADERBOARD": {"decay_factor": 0.95, "max_users": 100000},
    "LEADERBOARD_BACKUP_PATH": BASE_DIR / "data" / "leaderboard_backup.json",
    "LEADERBOARD_LOADER": "core.cpp_integration.load_leaderboard_into",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "core": {"handlers": ["console"], "level": os.environ.get("DISCORD_DJANGO_LOG", "INFO")},
        "cogs": {"handlers": ["console"], "level": os.environ.get("DISCORD_DJANGO_LOG", "INFO")},
        "bot": {"handlers": ["console"], "level": os.environ.get("DISCORD_DJANGO_LOG", "INFO")},
    },
}
