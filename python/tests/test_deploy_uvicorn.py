"""The example project under ``uvicorn --workers 4`` on a first deploy (issue 11, item 9).

No snapshot yet, so each worker's import of backend/asgi.py restores the leaderboard from the
database; uvicorn runs that import inside its event loop, where Django's ORM raises
``SynchronousOnlyOperation`` (before the fix: every worker died at start, over and over).
"""
from __future__ import annotations

import pytest

import deploy_support as ds

pytest.importorskip("uvicorn")

WORKERS = 4


def test_uvicorn_workers_first_deploy(tmp_path):
    project = ds.copy_project(tmp_path)
    env = ds.env_for(tmp_path)
    ds.manage(project, env, "migrate", "--noinput")
    ds.seed_students(project, env, 5)
    assert not (tmp_path / "home" / "data" / "leaderboard_backup.json").exists()  # a first deploy
    port = ds.free_port()
    server = ds.Server([ds.sys.executable, "-m", "uvicorn", "--workers", str(WORKERS), "--host", "127.0.0.1",
                        "--port", str(port), "backend.asgi:application"], project, env, port,
                       tmp_path / "uvicorn.log")
    try:
        server.wait_ready("/api/leaderboard/")
        for _ in range(3 * WORKERS):
            top = server.get_json("/api/leaderboard/?limit=10")
            assert [u["discord_id"] for u in top] == ["s4", "s3", "s2", "s1", "s0"], top
        log = server.output()
        assert "SynchronousOnlyOperation" not in log, log[-3000:]
        assert log.count("Started server process") == WORKERS  # no worker died and was replaced
    finally:
        server.stop()
    assert "A fatal error has been detected" not in server.output()
