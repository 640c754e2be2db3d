"""streamrank.django: lazy per-process objects from settings.STREAMRANK, the management commands,
the system check, and the apps the guide installs (which must not start the JVM)."""
import json
import os
import subprocess
import sys
import textwrap

import pytest
from example_support import EXAMPLE
from django.core.management import call_command
from django.core.management.base import CommandError

import streamrank.django as sd
from core.models import User

T0 = 1_750_000_000


@pytest.fixture
def configured(settings, tmp_path):
    """settings.STREAMRANK pointing at a throwaway snapshot; this process's objects reset."""
    settings.STREAMRANK = {
        "PROCESSOR": {"buffer_size": 1024, "num_threads": 2, "batch_size": 50, "flush_interval_ms": 50},
        "FLUSH_CALLBACK": "core.cpp_integration.flush_events_to_db",
        "LEADERBOARD": {"decay_factor": 0.9, "max_users": 1000},
        "LEADERBOARD_BACKUP_PATH": tmp_path / "snapshot.json",
        "LEADERBOARD_LOADER": "core.cpp_integration.load_leaderboard_into",
    }
    sd.reset()
    yield tmp_path / "snapshot.json"
    sd.reset()


def seed(n=30):
    User.objects.bulk_create([User(discord_id=f"d{i:03d}", display_name=f"N{i}", total_points=i + 1) for i in range(n)])


@pytest.mark.django_db(transaction=True)
def test_lazy_processor_uses_settings_and_callback(configured):
    from core.models import DiscordEventLog

    assert sd._processor.peek() is None  # nothing built by importing or configuring
    assert sd.get_processor() is sd.get_processor()
    for i in range(120):
        assert sd.processor.push_event("message", f"u{i % 9}", "general", T0 + i)
    sd.processor.flush_now()
    assert DiscordEventLog.objects.count() == 120  # FLUSH_CALLBACK was set from its dotted path
    assert sd.processor.get_top_channels(1) == [("general", 120)]


@pytest.mark.django_db(transaction=True)
def test_lazy_leaderboard_restores_from_loader_then_snapshot(configured):
    seed()
    board = sd.get_leaderboard()  # no snapshot yet: the loader fills it from the database
    assert board.size() == 30
    assert board.get_top_users(1)[0]["user_id"] == "d029"
    board.save_to_json(str(configured))
    User.objects.all().delete()
    sd.reset()
    assert sd.leaderboard.size() == 30  # a new one restores from the snapshot
    assert "not created" not in repr(sd.leaderboard)


def test_unknown_setting_is_a_clear_error(settings):
    settings.STREAMRANK = {"PROCESOR": {}}
    with pytest.raises(ValueError, match="unknown keys.*PROCESOR"):
        sd.streamrank_settings()
    settings.STREAMRANK = {"LEADERBOARD": 3}
    with pytest.raises(TypeError, match="LEADERBOARD"):
        sd.streamrank_settings()


def test_proxy_is_read_only():
    with pytest.raises(AttributeError, match="proxy"):
        sd.processor.something = 1


@pytest.mark.django_db(transaction=True)
def test_leaderboard_backup_and_restore_commands(configured, capsys, tmp_path):
    seed(12)
    call_command("leaderboard_backup", "--top", "2")
    out = capsys.readouterr().out
    assert f"Saved 12 users to {configured}" in out
    saved = json.loads(configured.read_text())
    assert {e["user_id"] for e in saved["entries"]} == {f"d{i:03d}" for i in range(12)}
    assert saved["decay_factor"] == 0.9 and saved["max_users"] == 1000

    other = tmp_path / "other.json"
    os.replace(configured, other)
    call_command("leaderboard_restore", "--path", str(other), "--top", "3")
    out = capsys.readouterr().out
    assert f"Restored 12 users from {other}" in out
    assert "d011" in out.splitlines()[1]  # the top user is shown first
    assert f"Installed as {configured}" in out and configured.is_file()

    other.write_text("{not json")
    with pytest.raises(CommandError, match="invalid snapshot"):
        call_command("leaderboard_restore", "--path", str(other))
    with pytest.raises(CommandError, match="no snapshot"):
        call_command("leaderboard_restore", "--path", str(tmp_path / "missing.json"))


def test_streamrank_stats_command(configured, capsys):
    call_command("streamrank_stats", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["java_version"].split(".")[0].isdigit() and int(report["java_version"].split(".")[0]) >= 17
    assert report["jar"].endswith("streamrank-core.jar")
    assert report["settings"]["PROCESSOR"]["batch_size"] == 50
    assert report["snapshot"] == {"path": str(configured), "exists": False}


# --- checks and start-up, in fresh interpreters (a JVM per process) ---------------------------

def django_python(code, env=None, settings_module="check_settings"):
    full = dict(os.environ, DJANGO_SETTINGS_MODULE=settings_module,
                PYTHONPATH=os.pathsep.join([str(EXAMPLE / "tests"), str(EXAMPLE), os.environ.get("PYTHONPATH", "")]))
    full.update(env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120, env=full, cwd=EXAMPLE)


def test_installed_apps_do_not_start_the_jvm():
    result = django_python("""
        import django, streamrank
        django.setup()
        from django.core.management import call_command
        call_command("check")
        from django.apps import apps
        assert apps.is_installed("cpp_event_processor") and apps.is_installed("cpp_leaderboard")
        import streamrank.django as sd
        print("jvm_started", streamrank.jvm_started(), sd._processor.peek(), sd._leaderboard.peek())
    """)
    assert result.returncode == 0, result.stderr
    assert "jvm_started False None None" in result.stdout


CHECK = "import django; django.setup(); from django.core.management import call_command; call_command('check')"


def test_check_passes_with_java():
    result = django_python(CHECK)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout + result.stderr


def test_check_reports_missing_java(tmp_path):
    result = django_python(CHECK, env={"STREAMRANK_JAVA_HOME": str(tmp_path / "no-java-here")})
    assert result.returncode != 0
    assert "streamrank.E001" in result.stderr and "Java runtime 17 or newer" in result.stderr


def test_check_reports_old_java(tmp_path):
    (tmp_path / "lib" / "server").mkdir(parents=True)
    (tmp_path / "lib" / "server" / "libjvm.so").write_bytes(b"")
    (tmp_path / "release").write_text('JAVA_VERSION="11.0.22"\n')
    result = django_python(CHECK, env={"STREAMRANK_JAVA_HOME": str(tmp_path)})
    assert result.returncode != 0
    assert "streamrank.E002" in result.stderr and "found Java 11" in result.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_objects_are_per_process_after_fork():
    """gunicorn preload: the master imports everything but uses nothing; each forked worker
    builds its own objects on first use. A master that did use them makes the worker fail clearly."""
    result = django_python("""
        import os, django
        django.setup()
        from streamrank.django import processor, leaderboard
        pid = os.fork()
        if pid == 0:  # a worker: never touched streamrank before the fork
            leaderboard.update_user(user_id="w", points=2.0, timestamp=0)
            os._exit(0 if leaderboard.size() == 1 and processor.push_event("m", "u", "c", 0) else 3)
        _, status = os.waitpid(pid, 0)
        print("worker", os.waitstatus_to_exitcode(status))
        leaderboard.size()  # now the master has a JVM
        pid = os.fork()
        if pid == 0:
            try:
                leaderboard.size()
            except RuntimeError as exc:
                os._exit(7 if "forked" in str(exc) else 4)
            os._exit(5)
        _, status = os.waitpid(pid, 0)
        print("late worker", os.waitstatus_to_exitcode(status))
    """)
    assert result.returncode == 0, result.stderr
    assert "worker 0" in result.stdout and "late worker 7" in result.stdout, result.stdout + result.stderr


@pytest.mark.django_db(transaction=True)
def test_proxy_records_configuration_calls_without_building(configured):
    """The guide's module-level ``processor.set_flush_callback(...)`` through the proxy builds
    nothing (a preloading master stays JVM-free), is checked at once, and reaches every object
    the proxy builds later."""
    got = []
    sd._processor._recorded.clear()
    try:
        sd.processor.set_flush_callback(got.extend)
        sd.processor.set_time_source(lambda: T0 + 10)
        assert sd._processor.peek() is None
        with pytest.raises(TypeError, match="callback must be callable"):
            sd.processor.set_flush_callback(42)
        for i in range(5):
            assert sd.processor.push_event("message", f"u{i}", "general", 0)  # 0: the time source
        sd.processor.flush_now()
        assert len(got) == 5 and {e["timestamp"] for e in got} == {T0 + 10}
        sd.reset()  # a new object (another worker, or after reset) gets the same configuration
        sd.processor.push_event("message", "u9", "general", 0)
        sd.processor.flush_now()
        assert len(got) == 6
    finally:
        sd._processor._recorded.clear()


def test_run_outside_event_loop_moves_orm_work_off_the_loop_thread():
    import asyncio
    import threading

    def where():
        return threading.current_thread() is threading.main_thread()

    assert sd.run_outside_event_loop(where) is True  # no loop running: right here

    async def inside():
        return sd.run_outside_event_loop(where)

    assert asyncio.run(inside()) is False  # a loop is running here: on a helper thread
