"""WSGI entry point, with the guide's section 4 step 3 ("Initialize at Startup") at the end."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

application = get_wsgi_application()

# --- guide: section 4 step 3 -------------------------------------------------------------------
import cpp_event_processor
import cpp_leaderboard

# Initialize global instances
from core.cpp_integration import processor, leaderboard, restore_leaderboard

restore_leaderboard()
# --- end of the guide's code -------------------------------------------------------------------
