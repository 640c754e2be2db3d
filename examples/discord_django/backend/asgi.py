"""ASGI entry point, with the guide's section 4 step 3 ("Initialize at Startup") at the end."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

application = get_asgi_application()

import cpp_event_processor  # noqa: E402,F401
import cpp_leaderboard  # noqa: E402,F401

# Initialize global instances
from core.cpp_integration import processor, leaderboard, restore_leaderboard  # noqa: E402,F401

restore_leaderboard()
