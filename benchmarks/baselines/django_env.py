"""Django configured in-process for the "before" baselines: SQLite (a file on disk, Django's
defaults) and PostgreSQL (the throwaway server), with the guide's models ``User`` and
``DiscordEventLog``. Tables are created with the schema editor (no migrations needed)."""
from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def configure(sqlite_path: str, pg: dict | None, default: str = "sqlite") -> dict:
    """Set Django up once with aliases 'sqlite' and (when ``pg`` is given) 'pg'; ``default``
    names which one is also the 'default' alias (the guide's code uses the default database).
    Returns {'User': model, 'DiscordEventLog': model, 'source': where the models come from}."""
    import django
    from django.conf import settings

    sqlite = {"ENGINE": "django.db.backends.sqlite3", "NAME": sqlite_path,
              "OPTIONS": {"timeout": 30}}
    dbs = {"sqlite": sqlite}
    if pg is not None:
        dbs["pg"] = {"ENGINE": "django.db.backends.postgresql", **pg}
    dbs["default"] = dict(dbs[default])
    # The example project's own models (the guide's code as shipped), not its settings: the
    # benchmark picks the databases.
    example = os.path.join(ROOT, "examples", "discord_django")
    app, source = "core", "examples/discord_django/core/models.py"
    if example not in sys.path:
        sys.path.insert(0, example)
    settings.configure(
        DEBUG=False,
        BASE_DIR=os.path.dirname(sqlite_path),  # read by the example's cpp_integration module
        DATABASES=dbs,
        INSTALLED_APPS=["django.contrib.contenttypes", app],
        USE_TZ=False,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        LOGGING_CONFIG=None,
    )
    django.setup()
    from django.apps import apps
    return {"User": apps.get_model(app, "User"), "DiscordEventLog": apps.get_model(app, "DiscordEventLog"),
            "source": source}


def create_tables(alias: str, *models) -> None:
    """(Re)create the tables of ``models`` on ``alias``."""
    from django.db import connections
    conn = connections[alias]
    existing = set(conn.introspection.table_names())
    with conn.schema_editor() as editor:
        for model in models:
            if model._meta.db_table in existing:
                editor.delete_model(model)
            editor.create_model(model)
