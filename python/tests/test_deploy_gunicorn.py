"""The example project under a real ``gunicorn --preload`` (issue 11, item 8).

- The guide's code as written: the master imports wsgi.py, which builds both objects (JVM in the
  master) and forks. Workers must not hang: a page that does not use streamrank answers, one
  that does gets the clear fork ``RuntimeError``.
- The README's preload recipe: nothing is built in the master (the guide's module-level
  ``processor.set_flush_callback(...)`` included); every worker builds, restores and serves.
"""
from __future__ import annotations

import pytest

import deploy_support as ds

pytest.importorskip("gunicorn")

WORKERS = 2


def _gunicorn_help() -> str:
    return ds.subprocess.run([ds.sys.executable, "-m", "gunicorn", "--help"], capture_output=True,
                             text=True, timeout=60).stdout
NON_STREAMRANK_PAGE = "/admin/login/"


def _gunicorn(tmp_path, project, env):
    port = ds.free_port()
    args = [ds.sys.executable, "-m", "gunicorn", "--preload", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}",
            "--timeout", "60", "--graceful-timeout", "10", "backend.wsgi:application"]
    if "--no-control-socket" in _gunicorn_help():  # gunicorn >= 27 would open one in ~/.gunicorn
        args.insert(3, "--no-control-socket")
    return ds.Server(args, project, env, port, tmp_path / "gunicorn.log")


def test_guide_code_as_written_under_preload(tmp_path):
    project = ds.copy_project(tmp_path)
    env = ds.env_for(tmp_path)
    ds.manage(project, env, "migrate", "--noinput")
    ds.seed_students(project, env, 5)
    server = _gunicorn(tmp_path, project, env)
    try:
        server.wait_ready(NON_STREAMRANK_PAGE)
        for _ in range(4 * WORKERS):  # enough requests to reach every worker
            status, _ = server.get(NON_STREAMRANK_PAGE)
            assert status == 200, server.output()[-3000:]
        status, body = server.get("/api/leaderboard/")
        assert status == 500
        assert "forked" in body or "forked" in server.output(), server.output()[-3000:]
        assert "WORKER TIMEOUT" not in server.output()  # no worker hung
    finally:
        server.stop()
    assert "A fatal error has been detected" not in server.output()
    assert not list(project.glob("hs_err_pid*.log"))


def test_preload_recipe_builds_per_worker(tmp_path):
    project = ds.copy_project(tmp_path)
    ds.apply_preload_recipe(project)
    env = ds.env_for(tmp_path)
    ds.manage(project, env, "migrate", "--noinput")
    ds.seed_students(project, env, 5)
    server = _gunicorn(tmp_path, project, env)
    try:
        server.wait_ready(NON_STREAMRANK_PAGE)
        for _ in range(4 * WORKERS):
            top = server.get_json("/api/leaderboard/?limit=10")
            # Restored from the database, once, in the worker that answered (RESTORE_ON_START):
            # s_i has 10 * (i + 1) points, decayed by the seconds since seeding (twice as much if
            # loaded twice).
            assert [u["discord_id"] for u in top] == ["s4", "s3", "s2", "s1", "s0"], top
            assert [u["score"] for u in top] == pytest.approx([50, 40, 30, 20, 10], rel=1e-3)
        assert "WORKER TIMEOUT" not in server.output()
        assert "forked" not in server.output()
        # Nothing was built in the master: one "created in process" line per worker at most,
        # none from the master's pid.
        master = str(server.proc.pid)
        created = [line for line in server.output().splitlines() if "created in process" in line]
        assert not any(line.rstrip().endswith(f"process {master}") for line in created)
    finally:
        server.stop()
    assert "A fatal error has been detected" not in server.output()
