"""Throwaway Redis and PostgreSQL servers for the baselines: loopback only, a free port, a temp
directory, no persistence beyond the run; stopped (and the directory removed) on exit.

Both install their Debian package when the binary is missing and we are root (CI machines are
fresh); otherwise the caller gets a RuntimeError saying what to install, and the report marks
that baseline as skipped.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

_apt_updated = False


def _apt_install(package: str) -> None:
    global _apt_updated
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError(f"{package} is not installed (Debian/Ubuntu: sudo apt-get install {package})")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if not _apt_updated:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, stdout=subprocess.DEVNULL)
        _apt_updated = True
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until(ready, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not become ready within {timeout:.0f} s")


class RedisServer:
    """``redis-server`` on 127.0.0.1:<free port> and a Unix socket, no RDB/AOF, in a temp dir.
    ``client_kwargs()`` connects over the Unix socket (Redis's best case on one machine)."""

    def __init__(self) -> None:
        self.port = 0
        self.socket = None
        self.proc = None
        self.dir = None
        self.version = "n/a"

    def start(self, install: bool = True) -> "RedisServer":
        binary = shutil.which("redis-server")
        if binary is None and not install:
            raise RuntimeError("redis-server is not installed")
        if binary is None:
            _apt_install("redis-server")
            binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.split()[2].replace("v=", "")
        self.dir = tempfile.mkdtemp(prefix="bench-redis-")
        self.port = free_port()
        self.socket = os.path.join(self.dir, "redis.sock")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--unixsocket", self.socket,
             "--unixsocketperm", "700", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--protected-mode", "yes", "--daemonize", "no",
             "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis
        client = redis.Redis(**self.client_kwargs())

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with code {self.proc.returncode}")
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        _wait_until(ready, 15, "redis-server")
        client.close()
        return self

    def client_kwargs(self, tcp: bool = False) -> dict:
        if tcp:
            return {"host": "127.0.0.1", "port": self.port}
        return {"unix_socket_path": self.socket}

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _pg_bindir() -> str | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if candidates:
        return os.path.dirname(candidates[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1:<free port> (trust auth, default durability:
    fsync and synchronous_commit stay on, as a real "before" server has them). Runs as the
    ``postgres`` user when we are root (PostgreSQL refuses root)."""

    def __init__(self) -> None:
        self.port = 0
        self.dir = None
        self.bindir = None
        self.user = None
        self.version = "n/a"

    def _run(self, args, **kw):
        if self.user is not None:
            args = ["runuser", "-u", self.user, "--"] + args
        return subprocess.run(args, check=True, capture_output=True, text=True, **kw)

    def start(self) -> "PostgresServer":
        self.bindir = _pg_bindir()
        if self.bindir is None:
            _apt_install("postgresql")
            self.bindir = _pg_bindir()
            if self.bindir is None:
                raise RuntimeError("postgresql installed but initdb not found")
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root and no 'postgres' user to run PostgreSQL as")
            self.user = "postgres"
        self.dir = tempfile.mkdtemp(prefix="bench-pg-")
        if self.user:
            shutil.chown(self.dir, self.user)
        data = os.path.join(self.dir, "data")
        self._run([os.path.join(self.bindir, "initdb"), "-D", data, "-U", "bench", "-A", "trust",
                   "-E", "UTF8", "--no-locale"])
        self.port = free_port()
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.dir} "
                "-c shared_buffers=256MB -c max_connections=50")
        self._run([os.path.join(self.bindir, "pg_ctl"), "-D", data, "-o", opts, "-l",
                   os.path.join(self.dir, "log"), "-w", "-t", "60", "start"])
        self.version = self._run([os.path.join(self.bindir, "postgres"), "--version"]).stdout.split()[2]
        return self

    def dsn(self) -> dict:
        return {"HOST": "127.0.0.1", "PORT": str(self.port), "USER": "bench", "NAME": "postgres",
                "PASSWORD": ""}

    def stop(self) -> None:
        if self.dir is None:
            return
        data = os.path.join(self.dir, "data")
        if os.path.isdir(data):
            try:
                self._run([os.path.join(self.bindir, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"])
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
