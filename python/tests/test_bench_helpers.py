"""The benchmark's own parts: the alternating timer, the plain-Python pipeline and the
sortedcontainers board it compares against, and a smoke run of ``benchmarks/run.py --smoke``
(a tiny size, one value per contender; it checks the command works, not any speed)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import _timing  # noqa: E402
from baselines.boards import Ours, Sorted  # noqa: E402
from baselines.pipeline import PyPipeline  # noqa: E402


def test_interleave_alternates_contenders_and_rotates_who_goes_first():
    order = []

    def contender(name):
        def time_func(loops):
            order.append(name)
            return 1e-3 * loops
        return time_func

    res = _timing.interleave("t", {"a": contender("a"), "b": contender("b")}, values=3, warmups=0,
                             loops={"a": 2, "b": 2})
    assert order == ["a", "b", "b", "a", "a", "b"]
    assert res["a"].get_values() == pytest.approx((1e-3, 1e-3, 1e-3))
    assert res["a"].get_metadata()["name"] == "t/a"


def test_interleave_reports_a_failing_contender_and_keeps_the_others():
    def broken(loops):
        raise OSError("no server")

    res = _timing.interleave("t", {"ok": lambda loops: 0.01, "broken": broken}, values=2, warmups=0,
                             loops={"ok": 1, "broken": 1})
    assert res["skipped"] == {"broken": "OSError: no server"}
    assert len(res["ok"].get_values()) == 2


def test_calibrate_grows_loops_until_a_value_takes_min_time():
    assert _timing.calibrate(lambda loops: loops * 1e-4, min_time=0.01) >= 100


def test_pipeline_delivers_every_event_once_in_order_in_batches_of_at_most_batch_size():
    batches = []
    p = PyPipeline(0, 1, 7, 60_000)  # a flush interval far longer than the test
    p.set_flush_callback(batches.append)
    for i in range(100):
        assert p.push_event("message", f"u{i}", "c", i) is True
    p.flush_now()
    p.close()
    delivered = [e["timestamp"] for b in batches for e in b]
    assert delivered == list(range(100))
    assert max(len(b) for b in batches) == 7
    assert batches[0][0] == {"type": "message", "user_id": "u0", "channel_id": "c", "timestamp": 0}


def test_sorted_board_ranks_as_ours_does():
    rows = [(f"user{i}", float((i * 37) % 101 + 1), 1_700_000_000 - (i % 5) * 86400) for i in range(300)]
    ours, ref = Ours(), Sorted()
    ours.populate(rows)
    ref.populate(rows)
    for u, p, t in rows[:40]:
        ours.update(u, p, t + 3600)
        ref.update(u, p, t + 3600)
    ours.sync()
    assert [e["user_id"] for e in ref.top(25)] == [e["user_id"] for e in ours.top(25)]
    assert [e["user_id"] for e in ref.page(100)] == [e["user_id"] for e in ours.page(100)]
    assert ref.rank("user7")["rank"] == ours.rank("user7")["rank"]
    assert ref.rank("nobody") is None


def test_run_smoke_writes_tables_and_raw_values(tmp_path):
    proc = subprocess.run([sys.executable, str(BENCH / "run.py"), "--smoke", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((tmp_path / "benchmarks.json").read_text())
    titles = [s["title"] for s in results["sections"]]
    assert any(t.startswith("Event path") for t in titles)
    assert any(t.startswith("Leaderboard, 1,000 users, warm") for t in titles)
    assert any(t.startswith("Start-up") for t in titles)
    events = results["sections"][0]
    for row in events["rows"]:
        assert {"ours", "python"} <= set(row["stats"]), row
    tables = (tmp_path / "benchmarks-tables.md").read_text()
    assert "| event path: one producer, no-op callback |" in tables
    assert (tmp_path / "benchmarks.pyperf.json").stat().st_size > 0


@pytest.mark.skipif(not os.environ.get("STREAMRANK_ORIGINAL_PATH"), reason="no hand-built original")
def test_loading_the_original_leaves_import_giving_ours():
    from baselines import original
    import cpp_leaderboard
    mods = original.load()
    assert sys.modules["cpp_leaderboard"] is cpp_leaderboard
    assert "cpp_event_processor" not in sys.modules or sys.modules["cpp_event_processor"] is not mods[0]
    assert mods[1].__file__.endswith(".so")


def test_time_calls_takes_the_arguments_in_turn_across_calls():
    seen = []
    tf = _timing.time_calls(seen.append, [1, 2, 3])
    tf(2)
    tf(2)
    assert seen == [1, 2, 3, 1]
