"""The benchmark command's pure helpers and its CLI (the benchmarks themselves are not run here)."""
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import _common  # noqa: E402


def test_run_py_help_lists_quick_mode():
    out = subprocess.run([sys.executable, str(BENCH / "run.py"), "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "--quick" in out.stdout


@pytest.mark.parametrize("value, text", [
    (0, "0"), (1234567.0, "1,234,567"), (123.4, "123"), (12.345, "12.3"), (0.012345, "0.0123"),
    (float("nan"), "n/a"),
])
def test_fmt_num_keeps_three_significant_figures(value, text):
    assert _common.fmt_num(value) == text


@pytest.mark.parametrize("seconds, text", [
    (2.5, "2.50 s"), (0.0123, "12.3 ms"), (4.2e-6, "4.20 us"), (8.5e-8, "85.0 ns"),
])
def test_fmt_time_picks_a_readable_unit(seconds, text):
    assert _common.fmt_time(seconds) == text


def test_stat_median_and_spread():
    s = _common.Stat([3e-6, 1e-6, 2e-6, 10e-6])
    assert s.median == pytest.approx(2.5e-6)
    assert (s.low, s.high) == (1e-6, 10e-6)
    assert _common.fmt_time_stat(s) == "2.50 (1.00-10.0) us"


def test_sample_helpers_call_with_each_argument_in_turn():
    seen = []
    _common.sample_median(seen.append, [1, 2, 3], calls=5, offset=1)
    assert seen == [2, 3, 1, 2, 3]
    seen.clear()
    _common.sample_mean(seen.append, ["a", "b"], calls=3)
    assert seen == ["a", "b", "a"]
