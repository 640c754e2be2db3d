"""ASGI entry point, with the guide's section 4 step 3 ("Initialize at Startup") at the end.

One change to the guide: an ASGI server (``uvicorn backend.asgi:application``, also with
``--workers N``) imports this module inside its event loop, where Django refuses ORM calls
(``SynchronousOnlyOperation``). On a first deploy there is no snapshot yet and
``restore_leaderboard()`` loads from the database, so it runs on a helper thread there.
"""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

application = get_asgi_application()

import cpp_event_processor  # noqa: E402,F401
import cpp_leaderboard  # noqa: E402,F401

# Initialize global instances
from core.cpp_integration import processor, leaderboard, restore_leaderboard  # noqa: E402,F401
from streamrank.django import run_outside_event_loop  # noqa: E402

run_outside_event_loop(restore_leaderboard)
