"""Signals and exits with the JVM started, each in a child interpreter (issue 11, items 7, 10, 11).

Every signal is sent by this process (``os.kill``) once the child has said, on its stdout pipe,
that it reached the point under test: a handshake, not a sleep. Each wait is bounded; the child
itself would wait 10 minutes, so a signal that does not land shows up as a timeout, not as a
slow pass.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

WAIT = 60  # seconds: bound on every wait for a child (a hang fails the test, it does not stall CI)

# The child: a processor whose events stay pending (flush interval 10 minutes, batch larger than
# what is pushed), a callback that appends each delivered batch's size to a file, then "ready
# <pending>" and the point under test.
CHILD = textwrap.dedent("""
    import asyncio, os, signal, sys, time
    mode, out = sys.argv[1], sys.argv[2]
    if "handler-before" in mode:
        signal.signal(signal.SIGTERM, lambda s, f: (open(out + ".app", "w").write("app"), sys.exit(3)))
    import cpp_event_processor
    p = cpp_event_processor.EventStreamProcessor(buffer_size=4096, num_threads=1, batch_size=1000,
                                                 flush_interval_ms=600000)
    def deliver(events):
        if "stuck" in mode:
            time.sleep(600)
        with open(out, "a") as f:
            f.write(f"{len(events)}\\n")
    p.set_flush_callback(deliver)
    if "handler-after" in mode:
        signal.signal(signal.SIGTERM, lambda s, f: (open(out + ".app", "w").write("app"), sys.exit(3)))
    accepted = sum(p.push_event("message", f"u{i}", "c", 0) for i in range(300))
    print("ready", accepted, p.pending_events(), flush=True)
    if mode.startswith("sleep"):
        time.sleep(600)
    elif mode.startswith("busy"):
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            pass
    elif mode.startswith("asyncio"):
        asyncio.run(asyncio.sleep(600))
    elif mode.startswith("close"):
        p.close()  # no timeout: with a stuck callback this waits forever, in 250 ms Java slices
""")


def _spawn(tmp_path, mode, env=None):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    out = tmp_path / "delivered"
    proc = subprocess.Popen([sys.executable, str(script), mode, str(out)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    line = proc.stdout.readline().split()
    assert line[:1] == ["ready"], (line, proc.stderr.read() if proc.poll() is not None else "")
    accepted, pending = int(line[1]), int(line[2])
    assert accepted == 300 and pending == 300  # the oracle below means something: all still pending
    return proc, out


def _finish(proc):
    try:
        _, err = proc.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"the child did not end within {WAIT} s of the signal; stderr:\n{err[-2000:]}")
    return proc.returncode, err


def _delivered(out) -> int:
    return sum(int(n) for n in out.read_text().split()) if out.exists() else 0


def _no_jvm_crash(tmp_path, err):
    assert not list(tmp_path.glob("hs_err_pid*.log")), "the JVM wrote a fatal error report"
    assert "A fatal error has been detected" not in err
    assert "terminate called" not in err


@pytest.mark.parametrize("mode", ["sleep", "busy", "asyncio"])
def test_sigterm_without_app_handler_delivers_then_dies_of_sigterm(tmp_path, mode):
    proc, out = _spawn(tmp_path, mode)
    os.kill(proc.pid, signal.SIGTERM)
    rc, err = _finish(proc)
    _no_jvm_crash(tmp_path, err)
    assert rc == -signal.SIGTERM, err[-2000:]
    assert _delivered(out) == 300  # every accepted event, exactly once


def test_sigterm_graceful_wait_is_bounded_by_stop_timeout(tmp_path):
    # The callback never returns: the stop gives up after STREAMRANK_STOP_TIMEOUT and still dies
    # of SIGTERM (without the bound the child would sit in the callback for 10 minutes).
    proc, out = _spawn(tmp_path, "sleep-stuck", env={"STREAMRANK_STOP_TIMEOUT": "0.5"})
    os.kill(proc.pid, signal.SIGTERM)
    rc, err = _finish(proc)
    _no_jvm_crash(tmp_path, err)
    assert rc == -signal.SIGTERM
    assert _delivered(out) == 0


def test_sigterm_during_an_endless_close_still_ends_the_process(tmp_path):
    # The main thread is inside close() (waiting in Java, GIL released in slices) when SIGTERM
    # comes: the handler runs between slices and the stop's own deadline bounds it.
    proc, out = _spawn(tmp_path, "close-stuck", env={"STREAMRANK_STOP_TIMEOUT": "0.5"})
    os.kill(proc.pid, signal.SIGTERM)
    rc, err = _finish(proc)
    _no_jvm_crash(tmp_path, err)
    assert rc == -signal.SIGTERM, err[-2000:]


@pytest.mark.parametrize("mode", ["sleep-handler-before", "sleep-handler-after"])
def test_application_sigterm_handler_keeps_precedence(tmp_path, mode):
    proc, out = _spawn(tmp_path, mode)
    os.kill(proc.pid, signal.SIGTERM)
    rc, err = _finish(proc)
    _no_jvm_crash(tmp_path, err)
    assert (tmp_path / "delivered.app").read_text() == "app"
    assert rc == 3, err[-2000:]  # the application's sys.exit(3), not our SIGTERM re-raise
    assert _delivered(out) == 300  # its sys.exit runs the exit hook: delivered all the same


@pytest.mark.parametrize("mode", ["sleep", "busy", "asyncio"])
def test_sigint_is_a_prompt_keyboardinterrupt(tmp_path, mode):
    proc, out = _spawn(tmp_path, mode)
    os.kill(proc.pid, signal.SIGINT)
    rc, err = _finish(proc)
    _no_jvm_crash(tmp_path, err)
    assert "KeyboardInterrupt" in err
    assert rc == -signal.SIGINT  # Python re-raises an uncaught KeyboardInterrupt as SIGINT
    assert _delivered(out) == 300  # an uncaught KeyboardInterrupt is an exit: the hook delivers


CTRL_C_CHILD = textwrap.dedent("""
    import time
    from streamrank import _jvm
    _jvm.start()
    try:
        print("ready", flush=True)
        while True:
            time.sleep(0.05)
    except KeyboardInterrupt:
        pass
    import cpp_leaderboard
    board = cpp_leaderboard.Leaderboard()
    board.update_user("alice", 2.0, 0)
    print("top", board.get_top_users(1)[0]["user_id"], flush=True)
""")


@pytest.mark.parametrize("round_", range(3))
def test_first_leaderboard_after_a_caught_ctrl_c(tmp_path, round_):
    """Before -Xrs, JPype's Java SIGINT handler interrupted the main thread's Java side and the
    next class load raised ``java.lang.InterruptedException: sleep interrupted``."""
    proc = subprocess.Popen([sys.executable, "-c", CTRL_C_CHILD], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the child did not finish after Ctrl-C")
    assert proc.returncode == 0, err[-2000:]
    assert out.split() == ["top", "alice"]


EXIT_CHILD = textwrap.dedent("""
    import threading
    import cpp_event_processor, cpp_leaderboard
    board = cpp_leaderboard.Leaderboard()
    for i in range(2000):
        board.update_user(f"u{i}", float(i), 0)
    proc = cpp_event_processor.EventStreamProcessor(buffer_size=65536, num_threads=2, batch_size=100,
                                                    flush_interval_ms=5)
    proc.set_flush_callback(lambda events: None)
    started = threading.Barrier(5)
    def producer(n):
        started.wait()
        i = 0
        while True:
            i += 1
            if n % 2:
                board.get_top_users(50); board.update_user("x", 1.0, 0)
            else:
                proc.push_event("m", f"u{i % 50}", "c", 0); proc.get_top_channels(3)
    for n in range(4):
        threading.Thread(target=producer, args=(n,), daemon=True).start()
    started.wait()  # every daemon thread is in its loop of streamrank calls: exit now
""")


def test_exit_with_daemon_threads_inside_streamrank_calls(tmp_path):
    """Before the fix ~60% of these exits aborted ("terminate called after throwing an instance
    of 'JPypeException'", exit -6): JPype's ``isinstance(x, JException)`` throws through the
    interpreter once the JVM is shutting down."""
    runs = int(os.environ.get("STREAMRANK_EXIT_RUNS", "8"))
    outcomes = []
    for _ in range(runs):
        try:
            done = subprocess.run([sys.executable, "-c", EXIT_CHILD], cwd=tmp_path, capture_output=True,
                                  text=True, timeout=WAIT)
            outcomes.append((done.returncode, done.stderr.strip().splitlines()[-1:] if done.returncode else []))
        except subprocess.TimeoutExpired:
            outcomes.append(("hang", []))
    failed = [o for o in outcomes if o[0] != 0]
    assert not failed, f"{len(failed)} of {runs} exits failed: {failed}"
    assert not list(tmp_path.glob("hs_err_pid*.log"))
