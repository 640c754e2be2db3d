"""pytest-django set-up for the example project (collected by ``./build.sh test``).

Django is configured here, in ``pytest_configure`` (pytest-django finishes the set-up after it),
with the example's own settings: SQLite in a throwaway folder by default, PostgreSQL when
``DISCORD_DJANGO_DB=postgres`` (``test_dj_postgres.py`` re-runs this suite that way).
"""
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from example_support import EXAMPLE  # noqa: E402


def pytest_unconfigure(config):
    home = getattr(config, "_discord_django_home", None)
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)


def pytest_configure(config):
    config.addinivalue_line("markers", "demo: starts the demo server (./build.sh demo) and a browser")
    # The guide's flush_events_to_db stores naive datetimes: Django warns once per distinct
    # timestamp (thousands here). test_naive_timestamp_warns_but_stores_the_right_instant checks
    # the warning and the stored instant; README.md says what to change.
    config.addinivalue_line(
        "filterwarnings", "ignore:DateTimeField DiscordEventLog.timestamp received a naive datetime:RuntimeWarning")
    if str(EXAMPLE) not in sys.path:
        sys.path.insert(0, str(EXAMPLE))
    if "DISCORD_DJANGO_HOME" not in os.environ:
        home = Path(tempfile.mkdtemp(prefix="discord-django-tests-"))
        (home / "data").mkdir()
        os.environ["DISCORD_DJANGO_HOME"] = str(home)
        config._discord_django_home = home
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    os.environ.setdefault("DISCORD_DJANGO_LOG", "WARNING")
    from django.conf import settings

    settings.DATABASES  # noqa: B018 - loads the settings; pytest-django's set-up follows


@pytest.fixture
def guide(monkeypatch):
    """The guide's objects, fresh for each test: a new processor (with the guide's
    ``flush_events_to_db`` callback) and leaderboard stand in for the module-level ones in every
    module of the example that uses them. Yields a namespace with both and the modules."""
    import bot
    import cogs.event_logger
    import cogs.points
    import core.cpp_integration as integration
    import core.views
    from cpp_event_processor import EventStreamProcessor
    from cpp_leaderboard import Leaderboard

    processor = EventStreamProcessor(buffer_size=16384, num_threads=4, batch_size=500, flush_interval_ms=1000)
    processor.set_flush_callback(integration.flush_events_to_db)
    leaderboard = Leaderboard(decay_factor=0.95, max_users=100000)
    for module in (integration, core.views, cogs.event_logger, cogs.points, bot):
        if hasattr(module, "processor"):
            monkeypatch.setattr(module, "processor", processor)
        if hasattr(module, "leaderboard"):
            monkeypatch.setattr(module, "leaderboard", leaderboard)
    yield SimpleNamespace(processor=processor, leaderboard=leaderboard, integration=integration,
                          views=core.views, bot=bot)
    processor.close()
