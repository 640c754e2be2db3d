"""Soak test (issue 7): everything at once for N minutes, then exact accounting.

    ./build.sh soak --minutes 10          # or: .venv/bin/python python/tests/soak.py --minutes 10

What runs concurrently:

* ``--producers`` threads push events as fast as a Python loop can into one
  ``EventStreamProcessor``. Each producer numbers its *accepted* events 0, 1, 2, ... (a refused
  push reuses the number), carried in ``event_type``; ``channel_id`` names the producer.
* The flush callback fails ``--fail-rate`` (5%) of its calls and stalls now and then
  (``--stall-rate`` of calls sleep 50-500 ms, a slow database). Failed batches are retried by the
  processor; batches that exhaust their retries land in the dead-letter list, which a
  maintenance thread re-drives every few seconds.
* Leaderboard updaters (``--lb-threads``) hammer a board capped at ``--max-users`` with a user
  pool twice that size (constant evictions); a query thread reads top-k, ranks, pages and
  neighbourhoods and checks their shape and order; a snapshot thread saves every few seconds and
  loads each snapshot into a second board.

Every ``--report`` seconds a line of figures is printed, with the JVM heap used after a full GC
(``java.lang.management.MemoryMXBean``) and the process RSS.

Checks at the end (exit status 1 if any fails):

* accepted = delivered (+ dead-lettered before the final re-drive, reported separately);
  per producer the delivered numbers are exactly 0..accepted-1: nothing lost, nothing delivered
  twice (tracked with a low-water mark plus the set of out-of-order numbers, so memory stays
  bounded);
* ``events_dropped()`` equals the refused pushes; ``total_events_processed()`` equals accepted;
  ``get_top_channels`` equals the per-producer accepted counts;
* memory flat after warm-up: the samples after the warm-up (the first 25% of the run, at least
  30 s) are cut in thirds; the median post-GC heap of the last third must be within 10% + 8 MiB
  of the first third's, the median RSS within 5% + 32 MiB (medians, because a sample taken while
  a snapshot is being written shows a transient spike, not a leak); the range and the
  least-squares slope (MiB/min) are printed too. The heap is fixed and pre-touched
  (``-Xms256m -Xmx256m -XX:+AlwaysPreTouch``) so RSS measures everything but the heap;
* the leaderboard answered every query consistently and every snapshot loaded.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path



def progress(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               "unknown")
    return {"cpu": cpu, "cores": os.cpu_count(), "python": sys.version.split()[0]}


# A fixed, pre-touched heap: the JVM's committed heap then cannot grow during the run, so the
# RSS check measures everything else (Python objects, native buffers, metaspace, code cache,
# thread stacks). Override with the usual variables.
os.environ.setdefault("STREAMRANK_JVM_HEAP", "256m")
os.environ.setdefault("STREAMRANK_JVM_OPTS", "-Xms256m -XX:+AlwaysPreTouch")

from cpp_event_processor import EventStreamProcessor  # noqa: E402
from cpp_leaderboard import Leaderboard  # noqa: E402


# ---------------------------------------------------------------------------------------------
# delivery accounting
# ---------------------------------------------------------------------------------------------

class SeqTracker:
    """Which sequence numbers of one producer were delivered: all below ``low`` plus
    ``ahead``. A number seen twice is a duplicate. Memory is bounded by how far out of order
    deliveries run (retries, dead letters), not by the run's length."""

    __slots__ = ("low", "ahead", "duplicates", "delivered")

    def __init__(self):
        self.low = 0
        self.ahead: set[int] = set()
        self.duplicates = 0
        self.delivered = 0

    def add(self, seq: int) -> None:
        self.delivered += 1
        if seq < self.low or seq in self.ahead:
            self.duplicates += 1
            return
        if seq == self.low:
            self.low += 1
            ahead = self.ahead
            while self.low in ahead:
                ahead.discard(self.low)
                self.low += 1
        else:
            self.ahead.add(seq)


class FlakyCallback:
    """The flush callback: fails some calls, stalls some, records the rest."""

    def __init__(self, trackers: dict, fail_rate: float, stall_rate: float, seed: int):
        self.trackers = trackers
        self.fail_rate = fail_rate
        self.stall_rate = stall_rate
        self.rnd = random.Random(seed)
        self.lock = threading.Lock()
        self.calls = self.failures = self.stalls = self.batches = 0
        self.max_batch = 0

    def __call__(self, events):
        with self.lock:
            self.calls += 1
            r = self.rnd.random()
            stall = self.rnd.uniform(0.05, 0.5) if self.rnd.random() < self.stall_rate else 0.0
        if stall:
            with self.lock:
                self.stalls += 1
            time.sleep(stall)  # a slow database write
        if r < self.fail_rate:
            with self.lock:
                self.failures += 1
            raise RuntimeError("soak: injected batch failure")
        parsed = [(e["channel_id"], int(e["type"])) for e in events]
        with self.lock:
            self.batches += 1
            if len(events) > self.max_batch:
                self.max_batch = len(events)
            trackers = self.trackers
            for ch, seq in parsed:
                trackers[ch].add(seq)


# ---------------------------------------------------------------------------------------------
# memory
# ---------------------------------------------------------------------------------------------

def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def heap_after_gc_mib() -> float:
    import jpype
    mf = jpype.JClass("java.lang.management.ManagementFactory")
    bean = mf.getMemoryMXBean()
    bean.gc()
    return int(bean.getHeapMemoryUsage().getUsed()) / (1024 * 1024)


def nonheap_mib() -> float:
    """JVM memory outside the heap that the JVM accounts for (metaspace, code cache...)."""
    import jpype
    bean = jpype.JClass("java.lang.management.ManagementFactory").getMemoryMXBean()
    return int(bean.getNonHeapMemoryUsage().getUsed()) / (1024 * 1024)


def slope_per_min(points) -> float:
    """Least-squares slope of (seconds, MiB) points, in MiB per minute."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if sxx == 0:
        return 0.0
    return sum((p[0] - mx) * (p[1] - my) for p in points) / sxx * 60


# ---------------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--producers", type=int, default=4)
    ap.add_argument("--buffer-size", type=int, default=4096,
                    help="small, so that stalls fill it and pushes get refused now and then")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--flush-interval-ms", type=int, default=50)
    ap.add_argument("--fail-rate", type=float, default=0.05)
    ap.add_argument("--stall-rate", type=float, default=0.005)
    ap.add_argument("--max-retries", type=int, default=1,
                    help="1: with 5%% failures about 1 batch in 400 is dead-lettered, then re-driven")
    ap.add_argument("--retry-backoff-ms", type=int, default=10)
    ap.add_argument("--lb-threads", type=int, default=2)
    ap.add_argument("--max-users", type=int, default=50_000)
    ap.add_argument("--report", type=float, default=10.0, help="seconds between figure lines")
    ap.add_argument("--snapshot-every", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--json", help="write the figures here too")
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    duration = args.minutes * 60
    warmup = max(30.0, duration * 0.25)

    facts = machine()
    progress(f"soak: {args.minutes} min, seed {seed}, {facts['cores']} cores, {facts['cpu']}")

    channels = [f"p{k}" for k in range(args.producers)]
    trackers = {ch: SeqTracker() for ch in channels}
    callback = FlakyCallback(trackers, args.fail_rate, args.stall_rate, seed)
    proc = EventStreamProcessor(args.buffer_size, args.workers, args.batch_size, args.flush_interval_ms,
                                max_retries=args.max_retries, retry_backoff_ms=args.retry_backoff_ms)
    proc.set_flush_callback(callback)

    stop = threading.Event()
    errors: list[str] = []
    accepted = [0] * args.producers
    refused = [0] * args.producers
    lb_counts = {"updates": 0, "queries": 0, "snapshots": 0, "loads": 0, "redrives": 0,
                 "redriven_batches": 0}
    lb_lock = threading.Lock()

    def guarded(fn):
        def run(*a):
            try:
                fn(*a)
            except BaseException as exc:  # noqa: BLE001 - report, do not die silently
                errors.append(f"{fn.__name__}: {type(exc).__name__}: {exc}")
                stop.set()
        run.__name__ = fn.__name__
        return run

    @guarded
    def producer(k):
        push = proc.push_event
        ch = channels[k]
        seq = 0
        miss = 0
        while not stop.is_set():
            for _ in range(1000):
                if push(str(seq), f"user{seq % 10_000}", ch, 0):
                    seq += 1
                else:
                    miss += 1
            accepted[k] = seq
            refused[k] = miss
        accepted[k] = seq
        refused[k] = miss

    @guarded
    def redriver():
        while not stop.wait(3.0):
            n = len(proc.failed_batches())
            if n:
                proc.redrive_failed()
                lb_counts["redrives"] += 1
                lb_counts["redriven_batches"] += n

    board = Leaderboard(decay_factor=0.95, max_users=args.max_users)
    pool = [f"player{i}" for i in range(args.max_users * 2)]

    @guarded
    def lb_updater(k):
        rnd = random.Random(seed + 100 + k)
        now = int(time.time())
        upd = board.update_user
        n = 0
        while not stop.is_set():
            for _ in range(500):
                upd(rnd.choice(pool), float(rnd.randint(1, 100)), now - rnd.randrange(30 * 86400))
            n += 500
            with lb_lock:
                lb_counts["updates"] += 500

    def check_entries(entries, where):
        for i in range(1, len(entries)):
            a, b = entries[i - 1], entries[i]
            if b["rank"] != a["rank"] + 1:
                raise AssertionError(f"{where}: ranks not consecutive: {a['rank']}, {b['rank']}")
            if b["score"] > a["score"]:
                raise AssertionError(f"{where}: scores not descending: {a} before {b}")

    @guarded
    def lb_querier():
        rnd = random.Random(seed + 7)
        while not stop.is_set():
            top = board.get_top_users(10)
            check_entries(top, "get_top_users")
            if top and top[0]["rank"] != 1:
                raise AssertionError(f"top starts at rank {top[0]['rank']}")
            u = rnd.choice(pool)
            r = board.get_user_rank(u)
            if r is not None and r["user_id"] != u:
                raise AssertionError(f"get_user_rank({u}) gave {r}")
            start = rnd.randint(1, args.max_users)
            check_entries(board.get_rank_range(start, start + 49), "get_rank_range")
            check_entries(board.get_users_around(u, 5), "get_users_around")
            size = board.size()
            if not 0 <= size <= args.max_users:
                raise AssertionError(f"size {size} outside 0..{args.max_users}")
            with lb_lock:
                lb_counts["queries"] += 5

    tmpdir = tempfile.mkdtemp(prefix="streamrank-soak-")
    snap = os.path.join(tmpdir, "board.json")

    @guarded
    def snapshotter():
        other = Leaderboard()
        while not stop.wait(args.snapshot_every):
            board.save_to_json(snap)
            lb_counts["snapshots"] += 1
            other.load_from_json(snap)
            lb_counts["loads"] += 1
            if not 0 < other.size() <= args.max_users:
                raise AssertionError(f"snapshot holds {other.size()} users")
            check_entries(other.get_top_users(100), "loaded snapshot")

    threads = [threading.Thread(target=producer, args=(k,), name=f"producer-{k}") for k in range(args.producers)]
    threads += [threading.Thread(target=lb_updater, args=(k,), name=f"lb-{k}") for k in range(args.lb_threads)]
    threads += [threading.Thread(target=lb_querier, name="lb-query"),
                threading.Thread(target=snapshotter, name="snapshots"),
                threading.Thread(target=redriver, name="redrive")]
    for t in threads:
        t.daemon = True
        t.start()

    samples = []  # (t, heap MiB, rss MiB)
    extra_samples = []  # (t, JVM non-heap MiB, Python allocated blocks): where RSS growth goes
    t0 = time.monotonic()
    last = (t0, 0, 0, 0)
    header = (f"{'t(s)':>6} {'push/s':>9} {'accepted':>11} {'dropped':>10} {'delivered':>11} "
              f"{'pending':>8} {'dead':>5} {'cb fail':>7} {'lb upd/s':>9} {'lb q/s':>7} "
              f"{'snaps':>5} {'heap MiB':>8} {'RSS MiB':>8}")
    print(header, flush=True)
    while not stop.is_set():
        if stop.wait(max(0.0, min(args.report, t0 + duration - time.monotonic()))):
            break
        now = time.monotonic()
        acc, ref = proc.total_events_processed(), proc.events_dropped()
        delivered = proc.total_events_flushed()
        heap, rss = heap_after_gc_mib(), rss_mib()
        samples.append((now - t0, heap, rss))
        extra_samples.append((now - t0, nonheap_mib(), sys.getallocatedblocks()))
        dt = now - last[0]
        with lb_lock:
            upd, q = lb_counts["updates"], lb_counts["queries"]
        print(f"{now - t0:6.0f} {(acc + ref - last[1]) / dt:9.0f} {acc:11d} {ref:10d} {delivered:11d} "
              f"{proc.pending_events():8d} {len(proc.failed_batches()):5d} {callback.failures:7d} "
              f"{(upd - last[2]) / dt:9.0f} {(q - last[3]) / dt:7.0f} {lb_counts['snapshots']:5d} "
              f"{heap:8.1f} {rss:8.1f}", flush=True)
        last = (now, acc + ref, upd, q)
        if now - t0 >= duration:
            break
    stop.set()
    for t in threads:
        t.join(60)
        if t.is_alive():
            errors.append(f"thread {t.name} did not stop within 60 s")

    # ---- drain: flush, re-drive dead letters until none are left --------------------------
    acc_total, ref_total = sum(accepted), sum(refused)
    dead_before = sum(len(b) for b in proc.failed_batches())
    rounds = 0
    while True:
        try:
            proc.flush_now()
        except Exception:  # noqa: BLE001 - dead letters are reported by raising
            pass
        dead = proc.failed_batches()
        if not dead:
            break
        rounds += 1
        if rounds > 50:
            errors.append(f"{len(dead)} batches still dead-lettered after 50 re-drives")
            break
        proc.redrive_failed()
    delivered_total = sum(t.delivered for t in trackers.values())

    figures = {
        "seed": seed, "minutes": args.minutes, "machine": facts,
        "config": {k: v for k, v in vars(args).items() if k != "json"},
        "accepted": acc_total, "refused": ref_total, "events_dropped": proc.events_dropped(),
        "total_events_processed": proc.total_events_processed(),
        "delivered": delivered_total, "dead_lettered_at_stop": dead_before,
        "final_redrive_rounds": rounds,
        "callback_calls": callback.calls, "callback_failures": callback.failures,
        "callback_stalls": callback.stalls, "batches_ok": callback.batches, "max_batch": callback.max_batch,
        "duplicates": sum(t.duplicates for t in trackers.values()),
        "out_of_order_left": sum(len(t.ahead) for t in trackers.values()),
        "leaderboard": dict(lb_counts, size=board.size()),
        "push_rate_per_s": (acc_total + ref_total) / duration,
        "samples": samples,
        "nonheap_and_python_blocks": extra_samples,
    }

    # ---- checks ----------------------------------------------------------------------------
    checks = []

    def check(name, ok, detail=""):
        checks.append((name, bool(ok), detail))

    check("accepted = delivered (after re-drive)", delivered_total == acc_total,
          f"{acc_total} accepted, {delivered_total} delivered")
    check("no duplicates", figures["duplicates"] == 0, f"{figures['duplicates']} duplicates")
    lost = {ch: (t.low, accepted[k], len(t.ahead)) for k, (ch, t) in enumerate(trackers.items())
            if t.low != accepted[k] or t.ahead}
    check("per producer exactly 0..accepted-1 delivered", not lost, str(lost))
    check("events_dropped() = refused pushes", proc.events_dropped() == ref_total,
          f"{proc.events_dropped()} vs {ref_total}")
    check("total_events_processed() = accepted", proc.total_events_processed() == acc_total,
          f"{proc.total_events_processed()} vs {acc_total}")
    want_top = sorted(((ch, accepted[k]) for k, ch in enumerate(channels) if accepted[k]),
                      key=lambda kv: (-kv[1], kv[0]))
    check("get_top_channels = accepted per producer", proc.get_top_channels(len(channels)) == want_top,
          f"{proc.get_top_channels(len(channels))} vs {want_top}")
    check("batches <= batch_size", callback.max_batch <= args.batch_size, f"max {callback.max_batch}")
    after = [s for s in samples if s[0] >= warmup]
    if len(after) >= 3:
        third = max(1, len(after) // 3)
        for key, col, rel, slack in (("heap", 1, 1.10, 8.0), ("rss", 2, 1.05, 32.0)):
            first = statistics.median(s[col] for s in after[:third])
            last = statistics.median(s[col] for s in after[-third:])
            fig = {"first_third_median": first, "last_third_median": last,
                   "min": min(s[col] for s in after), "max": max(s[col] for s in after),
                   "slope_mib_per_min": slope_per_min([(s[0], s[col]) for s in after])}
            figures[f"{key}_after_warmup_mib"] = fig
            name = "JVM heap after GC" if key == "heap" else "process RSS"
            check(f"{name} flat after warm-up", last <= first * rel + slack,
                  f"median {first:.1f} -> {last:.1f} MiB (first -> last third; allowed +{(rel - 1) * 100:.0f}% "
                  f"+ {slack:.0f} MiB), range {fig['min']:.1f}-{fig['max']:.1f}, "
                  f"slope {fig['slope_mib_per_min']:+.2f} MiB/min")
    else:
        check("memory samples after warm-up", False,
              "run too short for the memory criterion (need 3 samples after warm-up)")
    check("leaderboard snapshots taken and loaded", lb_counts["snapshots"] > 0 and lb_counts["loads"] == lb_counts["snapshots"],
          f"{lb_counts['snapshots']} saved, {lb_counts['loads']} loaded")
    check("no errors in any thread", not errors, "; ".join(errors[:5]))
    proc.close()
    figures["checks"] = [{"check": n, "ok": ok, "detail": d} for n, ok, d in checks]

    if len(extra_samples) >= 2:
        (ta, na, ba), (tb, nb, bb) = extra_samples[0], extra_samples[-1]
        print(f"\nJVM non-heap {na:.1f} -> {nb:.1f} MiB, Python allocated blocks {ba} -> {bb} "
              f"(first -> last sample; where RSS growth goes)")
    print()
    print(f"seed {seed}; {acc_total} accepted ({figures['push_rate_per_s']:.0f} pushes/s incl. refused), "
          f"{ref_total} refused, {delivered_total} delivered; callback {callback.calls} calls, "
          f"{callback.failures} failed, {callback.stalls} stalled; {dead_before} events dead-lettered at stop, "
          f"{lb_counts['redriven_batches']} batches re-driven during the run; leaderboard "
          f"{lb_counts['updates']} updates, {lb_counts['queries']} queries, {lb_counts['snapshots']} snapshots")
    for name, ok, detail in checks:
        print(f"  [{'PASS' if ok else 'FAIL'}] {name}: {detail}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    try:
        os.remove(snap)
        os.rmdir(tmpdir)
    except OSError:
        pass
    ok = all(c[1] for c in checks)
    print("SOAK PASSED" if ok else "SOAK FAILED", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
