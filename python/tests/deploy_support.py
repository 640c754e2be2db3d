"""Run the example project under a real server (gunicorn, uvicorn) in a throwaway copy.

A plain module (not conftest) so the deploy tests can import it by name.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "discord_django"
START_TIMEOUT = 120  # seconds for a server to answer its first request (a JVM per worker, 2 cores)


def copy_project(dest: Path) -> Path:
    project = dest / "project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", "data", "tests", "*.sqlite3*"))
    (dest / "home" / "data").mkdir(parents=True)
    return project


def apply_preload_recipe(project: Path) -> None:
    """The README's recipe for gunicorn --preload, as written there: the guide's two
    constructors become ``from streamrank.django import processor, leaderboard``, and
    ``restore_leaderboard()`` leaves wsgi.py (RESTORE_ON_START restores in each worker)."""
    module = project / "core" / "cpp_integration.py"
    code = module.read_text()
    code, n1 = re.subn(r"processor = cpp_event_processor\.EventStreamProcessor\(\n.*?\n\)\n",
                       "from streamrank.django import processor, leaderboard\n", code, flags=re.S)
    code, n2 = re.subn(r"leaderboard = cpp_leaderboard\.Leaderboard\(\n.*?\n\)\n", "", code, flags=re.S)
    assert (n1, n2) == (1, 1), "the guide's constructors moved: update the recipe"
    module.write_text(code)
    wsgi = project / "backend" / "wsgi.py"
    text = wsgi.read_text()
    assert "\nrestore_leaderboard()\n" in text
    wsgi.write_text(text.replace("\nrestore_leaderboard()\n", "\n"))


def env_for(dest: Path) -> dict:
    env = dict(os.environ)
    env.update(DISCORD_DJANGO_HOME=str(dest / "home"), DJANGO_SETTINGS_MODULE="backend.settings",
               DISCORD_DJANGO_DB="sqlite", PYTHONUNBUFFERED="1")
    return env


def manage(project: Path, env: dict, *args: str, timeout: float = 300) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def seed_students(project: Path, env: dict, n: int) -> None:
    code = ("from core.models import User\n"
            f"User.objects.bulk_create([User(discord_id=f's{{i}}', display_name=f'S{{i}}', role='student', "
            f"total_points=10 * (i + 1)) for i in range({n})])")
    manage(project, env, "shell", "-c", code)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process in its own session (so every worker can be stopped with it)."""

    def __init__(self, args: list[str], project: Path, env: dict, port: int, log: Path):
        self.port = port
        self.log = log
        self._log_file = open(log, "w")
        self.proc = subprocess.Popen(args, cwd=project, env=env, stdout=self._log_file,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def get(self, path: str, timeout: float = 60) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def get_json(self, path: str):
        status, body = self.get(path)
        assert status == 200, (status, body[:2000], self.output()[-3000:])
        return json.loads(body)

    def wait_ready(self, path: str) -> None:
        """Readiness probe: poll until the server answers ``path`` (bounded)."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.output()[-4000:]}")
            try:
                self.get(path, timeout=START_TIMEOUT)
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)  # not synchronisation: waiting for a port to open
        raise AssertionError(f"server not ready after {START_TIMEOUT} s:\n{self.output()[-4000:]}")

    def output(self) -> str:
        if not self._log_file.closed:
            self._log_file.flush()
        return self.log.read_text(errors="replace")

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # any worker left behind
        except ProcessLookupError:
            pass
        self.proc.wait(10)
        self._log_file.close()
        return self.proc.returncode
