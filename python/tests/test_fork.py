"""fork() after the JVM started (issue 11, item 8), in a child interpreter.

JPype puts ``_jpype._collect`` into ``gc.callbacks``; after a Python collection that saw the
process grow it calls ``System.gc()``, a VM operation that waits for the VM thread. A forked
child has no VM thread: before the fix the child crashed (SIGSEGV, JVM error report) or hung.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

FORK_CHILD = textwrap.dedent("""
    import gc, os, sys
    import cpp_leaderboard
    board = cpp_leaderboard.Leaderboard()
    board.update_user("a", 1.0, 0)
    print(any(getattr(cb, "__module__", None) == "_jpype" for cb in gc.callbacks), flush=True)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        hooked = any(getattr(cb, "__module__", None) == "_jpype" for cb in gc.callbacks)
        # Grow by ~200 MB of malloc'd blocks (what a worker does over its life), collecting as we
        # go: each collection runs JPype's hook, if it is still there.
        junk = []
        for _ in range(40):
            junk.append([list(range(1000)) for _ in range(500)])
            gc.collect()
        try:
            board.get_top_users(1)
            error = "none"
        except RuntimeError as exc:
            error = "fork" if "forked" in str(exc) else repr(exc)
        os.write(w, f"{hooked} {error}".encode())
        sys.exit(0)  # a normal exit, atexit included
    os.close(w)
    said = os.read(r, 200).decode()
    _, status = os.waitpid(pid, 0)
    print(said, os.waitstatus_to_exitcode(status))
    print(board.get_top_users(1)[0]["user_id"])  # the parent's JVM is untouched
""")


def test_child_forked_after_jvm_start_neither_hangs_nor_crashes(tmp_path):
    # Own session: on a hang, kill the forked grandchild too, not only the child.
    proc = subprocess.Popen([sys.executable, "-c", FORK_CHILD], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the forked child hung")
    assert proc.returncode == 0, err[-2000:]
    # JPype's hook in the parent, none in the child; the child's call raises the fork error.
    assert out.split() == ["True", "False", "fork", "0", "a"], (out, err[-2000:])
    assert not list(tmp_path.glob("hs_err_pid*.log"))
