"""The guide's module-level objects (DJANGO_INTEGRATION.md sections 1, 2 and 4: "from
myapp.cpp_integration import processor, leaderboard, restore_leaderboard").

Everything between the ``guide:`` markers is the guide's code as written; only the imports above
it are this project's. ``tests/test_guide_snippets.py`` checks that against the guide.

Importing this module creates the processor and the leaderboard, which starts the JVM: import it
from code that runs after Django has started (views, the bot, wsgi.py), as the guide does. Under
gunicorn with ``preload_app = True`` that import happens in the master before the fork; use
``streamrank.django``'s lazy per-process objects instead (see README.md next to this file).
"""
import logging
import os

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import cpp_event_processor
import cpp_leaderboard
from core.models import DiscordEventLog, User

logger = logging.getLogger(__name__)

# --- guide: section 1 "After (C++ + Batched Writes)" -------------------------------------------

# Initialize processor once at bot startup
processor = cpp_event_processor.EventStreamProcessor(
    buffer_size=16384,      # 16K event buffer
    num_threads=4,          # 4 worker threads
    batch_size=500,         # Batch 500 events
    flush_interval_ms=1000  # Or flush every 1 second
)

# Set up batched Django ORM callback
def flush_events_to_db(events):
    """Batched database write - runs in thread pool"""
    event_objects = [
        DiscordEventLog(
            event_type=e['type'],
            user_id=e['user_id'],
            channel_id=e['channel_id'],
            timestamp=timezone.datetime.fromtimestamp(e['timestamp']),
            metadata={'raw': True}
        )
        for e in events
    ]
    
    # Bulk insert - much faster than individual creates
    with transaction.atomic():
        DiscordEventLog.objects.bulk_create(event_objects, batch_size=500)

processor.set_flush_callback(flush_events_to_db)

# --- guide: section 2 "After (C++ Skip List)" --------------------------------------------------

# Initialize leaderboard once at Django startup
leaderboard = cpp_leaderboard.Leaderboard(
    decay_factor=0.95,  # 5% daily decay
    max_users=100000
)

# Load initial data from database
def load_leaderboard_from_db():
    """One-time sync from PostgreSQL to C++ skip list"""
    users = User.objects.filter(role='student').values('discord_id', 'total_points', 'updated_at')
    
    for user in users:
        timestamp = int(user['updated_at'].timestamp())
        leaderboard.update_user(
            user_id=user['discord_id'],
            points=float(user['total_points']),
            timestamp=timestamp
        )
    
    logger.info(f"Loaded {leaderboard.size()} users into leaderboard")

# NOT HERE: the guide's next lines are "# Call once at startup" / "load_leaderboard_from_db()".
# update_user *adds* points, and wsgi.py (guide section 4) calls restore_leaderboard(), which
# runs load_leaderboard_from_db() when there is no backup: both would count every user twice.
# wsgi.py's restore_leaderboard() is the one start-up load (see README.md, "What to change").

# --- guide: section 2 "Persistence for Crash Recovery" -----------------------------------------

LEADERBOARD_BACKUP_PATH = os.path.join(settings.BASE_DIR, 'data', 'leaderboard_backup.json')

# Save periodically (e.g., every hour via celery task)
def backup_leaderboard():
    leaderboard.save_to_json(LEADERBOARD_BACKUP_PATH)
    logger.info(f"Saved leaderboard backup to {LEADERBOARD_BACKUP_PATH}")

# Load at startup
def restore_leaderboard():
    if os.path.exists(LEADERBOARD_BACKUP_PATH):
        leaderboard.load_from_json(LEADERBOARD_BACKUP_PATH)
        logger.info(f"Restored leaderboard from {LEADERBOARD_BACKUP_PATH}")
    else:
        load_leaderboard_from_db()

# --- end of the guide's code -------------------------------------------------------------------


def load_leaderboard_into(board):
    """settings.STREAMRANK['LEADERBOARD_LOADER']: the guide's database load, into any board
    (the management commands build their own, per process)."""
    users = User.objects.filter(role="student").values("discord_id", "total_points", "updated_at")
    for user in users.iterator(chunk_size=2000):
        board.update_user(
            user_id=user["discord_id"],
            points=float(user["total_points"]),
            timestamp=int(user["updated_at"].timestamp()),
        )
