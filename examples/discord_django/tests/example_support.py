"""Shared by the example's tests (a plain module: conftest.py is not importable by name when
several test folders have one)."""
import asyncio
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1]
REPO = EXAMPLE.parents[1]
GUIDE = REPO.parent / "shared" / "spec" / "DJANGO_INTEGRATION.md"


def run(coro):
    """Run one of the guide's async handlers to completion, as the bot's event loop would, then
    close the connections the async ORM opened in its worker thread (a bot would do that
    periodically; here it lets the test database be dropped at the end)."""
    from asgiref.sync import sync_to_async
    from django.db import connections

    async def main():
        try:
            return await coro
        finally:
            await sync_to_async(connections.close_all)()

    return asyncio.run(main())
