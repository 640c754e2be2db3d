"""Per-process JVM defaults (issue 11, items 7 and 12): a bounded heap and -Xrs, in a child."""
from __future__ import annotations

import os
import subprocess
import sys

CHILD = ("import jpype, cpp_leaderboard\n"
         "cpp_leaderboard.Leaderboard().update_user('a', 1.0, 0)\n"
         "mx = jpype.JClass('java.lang.management.ManagementFactory').getRuntimeMXBean()\n"
         "print(int(jpype.JClass('java.lang.Runtime').getRuntime().maxMemory()) // 2**20)\n"
         "print(' '.join(str(a) for a in mx.getInputArguments()))\n")


def _child(**env):
    full = {k: v for k, v in os.environ.items() if k not in ("STREAMRANK_JVM_HEAP", "STREAMRANK_JVM_OPTS")}
    full.update(env)
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120, env=full)
    assert done.returncode == 0, done.stderr[-2000:]
    max_mb, args = done.stdout.splitlines()
    return int(max_mb), args.split()


def test_default_heap_is_bounded_and_signals_stay_pythons():
    max_mb, args = _child()
    assert "-Xmx512m" in args and "-Xrs" in args
    assert max_mb <= 512  # not a quarter of RAM


def test_heap_variable_overrides_the_default():
    max_mb, args = _child(STREAMRANK_JVM_HEAP="96m")
    assert "-Xmx96m" in args and "-Xmx512m" not in args
    assert max_mb <= 96


def test_a_heap_bound_in_jvm_opts_replaces_the_default():
    max_mb, args = _child(STREAMRANK_JVM_OPTS="-XX:MaxRAMPercentage=1")
    assert "-Xmx512m" not in args and "-XX:MaxRAMPercentage=1" in args
