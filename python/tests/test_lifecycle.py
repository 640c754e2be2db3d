"""streamrank._lifecycle: stop hooks run once, in order, with one deadline; each in a child."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent("""
    import sys, time
    from streamrank import _lifecycle
    calls = []
    def first(deadline):
        calls.append(("first", round(deadline - time.monotonic())))
        raise ValueError("a failing hook must not cost the others their turn")
    def second(deadline):
        calls.append(("second", round(deadline - time.monotonic())))
    _lifecycle.on_stop(first)
    _lifecycle.on_stop(second)
    _lifecycle.run_stop_hooks(30)
    _lifecycle.run_stop_hooks(30)   # once per process
    print(calls)
    import atexit
    atexit.register(lambda: print("exit ran hooks again:", len(calls) != 2))
""")


def _run(code, **env):
    full = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=full)


def test_hooks_run_once_in_order_with_the_deadline():
    done = _run(CHILD)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[('first', 30), ('second', 30)]", "exit ran hooks again: False"]
    assert "a failing hook" in done.stderr  # logged


@pytest.mark.parametrize("value", ["abc", "-1", "nan"])
def test_bad_stop_timeout_is_refused_with_its_name(value):
    done = _run("from streamrank import _lifecycle\n_lifecycle.stop_timeout()", STREAMRANK_STOP_TIMEOUT=value)
    assert done.returncode == 1
    assert "ValueError: STREAMRANK_STOP_TIMEOUT" in done.stderr


def test_on_stop_needs_a_callable():
    from streamrank import _lifecycle

    with pytest.raises(TypeError, match="callable"):
        _lifecycle.on_stop(42)
