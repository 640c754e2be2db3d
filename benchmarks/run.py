"""Every comparison of issue 13 in one command, each row ours vs the alternatives measured in the
same run, contenders alternating. Writes docs/benchmarks.json (the tables' numbers),
docs/benchmarks.pyperf.json (every raw value, pyperf format) and docs/benchmarks-tables.md.

    ./build.sh bench            # full: 10K, 100K and 1M users (about 20 min on 2 cores)
    ./build.sh bench --quick    # 10K users, fewer values (about 3 min)
    ./build.sh bench --smoke    # a tiny size, one value per contender (a test runs this)

The original C++ extension is a contender only when STREAMRANK_ORIGINAL_PATH names a folder
holding a hand-built cpp_event_processor*.so and cpp_leaderboard*.so (nothing of it is in this
repository); its rows are skipped otherwise. A throwaway redis-server on loopback serves the
Redis rows (skipped when redis-server cannot be started).

Each in-process part (the event path, the warm board at each size) runs in a fresh child
process of its own (``--part``), so no part inherits another's JVM heap, JIT state or modules.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import pyperf  # noqa: E402

from _timing import progress  # noqa: E402
from baselines import original  # noqa: E402

MODES = {
    "full": dict(sizes=[10_000, 100_000, 1_000_000], values=7, min_time=0.05, warmup_s=1.0,
                 cold_runs=3, cold_calls=1000, events=100_000, startup_runs=7,
                 ingest=dict(dbs=("sqlite", "pg"), events=20_000, before=500, repeats=3)),
    "quick": dict(sizes=[10_000], values=3, min_time=0.03, warmup_s=0.5,
                  cold_runs=2, cold_calls=1000, events=30_000, startup_runs=3,
                  ingest=dict(dbs=("sqlite",), events=5_000, before=100, repeats=2)),
    "smoke": dict(sizes=[1_000], values=1, min_time=0.002, warmup_s=0.05,
                  cold_runs=1, cold_calls=50, events=2_000, startup_runs=1, ingest=None),
}


def stats(bench) -> dict:
    values = bench.get_values()
    return {"median": bench.median(), "q1": bench.percentile(25), "q3": bench.percentile(75),
            "min": min(values), "max": max(values), "n": len(values)}


def section(title, unit, row_label, rows, columns, load, values, ratio_to=None) -> dict:
    out_rows = []
    for name, res in rows:
        out_rows.append({"name": name, "stats": {w: stats(b) for w, b in res.items() if w not in ("skipped", "notes")},
                         "skipped": res.get("skipped", {}), "notes": res.get("notes", [])})
    present = [c for c in columns if any(c in r["stats"] for r in out_rows)]
    sec = {"title": title, "unit": unit, "row_label": row_label, "rows": out_rows, "columns": present,
           "load": load, "values": values}
    if ratio_to is not None:
        sec["ratio_to"] = ratio_to
    return sec


def benches(rows) -> list:
    return [b for _name, res in rows for w, b in res.items() if w not in ("skipped", "notes")]


def ingest(icfg) -> list:
    """bench_ingest.py per database (PostgreSQL: a throwaway server), as rows of seconds/event."""
    from _timing import from_values
    from baselines.servers import PostgresServer
    rows = []
    for db in icfg["dbs"]:
        progress(f"ingestion into {db}")
        cmd = [sys.executable, os.path.join(HERE, "bench_ingest.py"), "--db", db, "--json", "--events",
               str(icfg["events"]), "--before-events", str(icfg["before"]), "--repeats", str(icfg["repeats"])]
        pg = None
        try:
            if db == "pg":
                pg = PostgresServer().start()
                cmd += ["--pg-port", str(pg.port)]
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=900)
            got = json.loads(proc.stdout.strip().splitlines()[-1])
        except Exception as exc:
            progress(f"  ingestion into {db} skipped: {exc}")
            continue
        finally:
            if pg is not None:
                pg.stop()
        for key, label in (("accepted_per_s", "accepted (the pushing loop)"),
                           ("persisted_per_s", "persisted (first push until committed)")):
            rows.append((f"{db}: {label}", {w: from_values(f"ingest/{db}/{key}/{w}", [1 / r for r in row[key]])
                                            for w, row in got["rows"].items()}))
    return rows


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               "unknown")
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    import jpype
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "java": java,
            "jpype": jpype.__version__}


def git_commit() -> str:
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs"],
                           cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return sha + (" (with uncommitted changes)" if dirty else "")


def run_part(part: str, mode: str, redis_socket) -> list:
    """One in-process part in a fresh child; returns its rows with pyperf benchmarks."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="bench-part-") as tmp:
        out = os.path.join(tmp, "part")
        cmd = [sys.executable, os.path.abspath(__file__), "--part", part, "--mode", mode, "--part-out", out]
        if redis_socket:
            cmd += ["--redis-socket", redis_socket]
        for attempt in (1, 2):  # the original C++ extension crashes now and then: one retry
            try:
                subprocess.run(cmd, check=True, timeout=1800)
                break
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                progress(f"part {part} failed ({exc})" + ("; trying once more" if attempt == 1 else
                                                          "; its rows are left out"))
        else:
            return []
        with open(out + ".json") as f:
            layout = json.load(f)
        suite = pyperf.BenchmarkSuite.load(out + ".pyperf.json")
    by_name = {b.get_name(): b for b in suite.get_benchmarks()}
    return [(name, {**{w: by_name[b] for w, b in names.items()}, "skipped": skipped})
            for name, names, skipped in layout]


def part_main(part: str, mode: str, out: str, redis_socket) -> int:
    """Child side of run_part: measure, then write the rows (pyperf suite + layout)."""
    cfg = MODES[mode]
    if part == "events":
        import bench_events
        rows = bench_events.run(cfg)
    else:  # board:N
        import bench_board
        rows = bench_board.warm(int(part.split(":")[1]), cfg, redis_socket)
    layout = [(name, {w: b.get_name() for w, b in res.items() if w != "skipped"}, res.get("skipped", {}))
              for name, res in rows]
    with open(out + ".json", "w") as f:
        json.dump(layout, f)
    pyperf.BenchmarkSuite(benches(rows)).dump(out + ".pyperf.json", replace=True)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="10K users, fewer values (about 3 min)")
    mode.add_argument("--smoke", action="store_true", help="a tiny size, one value (seconds; for tests)")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs"), help="folder for the outputs (default docs/)")
    ap.add_argument("--only", action="append", choices=("events", "board", "startup", "ingest"),
                    help="run only these sections (repeatable)")
    ap.add_argument("--render", metavar="JSON", help="only rewrite the tables from a benchmarks.json")
    ap.add_argument("--part", help=argparse.SUPPRESS)
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    ap.add_argument("--part-out", help=argparse.SUPPRESS)
    ap.add_argument("--redis-socket", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.part:
        return part_main(args.part, args.mode, args.part_out, args.redis_socket)
    import report
    if args.render:
        with open(args.render) as f:
            print(report.write(json.load(f), args.out))
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds: redis-server is stopped
    name = "smoke" if args.smoke else "quick" if args.quick else "full"
    cfg = MODES[name]
    only = set(args.only or ("events", "board", "startup") + (("ingest",) if cfg["ingest"] else ()))
    command = "./build.sh bench" + {"full": "", "quick": " --quick", "smoke": " --smoke"}[name] + \
        "".join(f" --only {s}" for s in sorted(args.only or ()))
    t_start = time.time()
    results = {"command": command, "mode": name, "config": cfg, "machine": machine(), "commit": git_commit(),
               "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "original": ("built by hand, loaded from " + os.environ[original.ENV]) if original.available()
               else f"not measured ({original.ENV} unset)", "sections": []}
    all_benches = []
    vals = f"{cfg['values']} values per contender, taken in alternating rounds"
    cols = ["ours", "sortedcontainers", "original", "redis"]

    def load():
        return os.getloadavg()[0]

    def add(rows, l0, title, unit, label, columns, values, ratio_to=None):
        all_benches.extend(benches(rows))
        results["sections"].append(section(title, unit, label, rows, columns, (l0, load()), values, ratio_to))

    from baselines.servers import RedisServer
    redis = None
    try:
        if "board" in only:
            try:
                redis = RedisServer().start(install=name != "smoke")  # smoke: never apt-get
            except Exception as exc:
                progress(f"Redis rows skipped: {exc}")
        sock = redis.socket if redis else None
        if "events" in only:
            l0 = load()
            add(run_part("events", name, None), l0, "Event path: push through delivery, and steady push_event",
                "ns", "workload (per event)", ["ours", "python", "original", "no-op function (loop floor)"],
                f"{vals}; one value = {cfg['events']:,} events", ratio_to=["python", "original"])
        if "board" in only:
            import bench_board
            for n in cfg["sizes"]:
                l0 = load()
                add(run_part(f"board:{n}", name, sock), l0, f"Leaderboard, {n:,} users, warm", "us",
                    "operation (per call)", cols, vals)
            mem = []
            for n in cfg["sizes"]:
                l0 = load()
                rows, memory = bench_board.cold(n, cfg, sock)
                mem.append(memory)
                add(rows, l0, f"Leaderboard, {n:,} users, cold: mean of the first {cfg['cold_calls']:,} calls "
                    "of a fresh process", "us", "operation (per call)", cols,
                    f"{cfg['cold_runs']} fresh processes per contender, alternating")
            l0 = load()
            heap = [(f"{label}: ours, JVM heap bytes/user", {"ours": r.pop("ours heap bytes/user")})
                    for label, r in mem if "ours heap bytes/user" in r]
            add(heap, l0, "Memory: JVM heap per user (ours)", "B", "board", ["ours"],
                f"{cfg['cold_runs']} fresh processes", ratio_to=[])
            add([(label.replace("memory, ", ""), r) for label, r in mem], l0,
                "Memory: process RSS after loading the board (ours: includes the JVM)", "MiB", "board", cols,
                f"{cfg['cold_runs']} fresh processes", ratio_to=[])
        if "startup" in only:
            import bench_startup
            l0 = load()
            add(bench_startup.run(cfg), l0,
                "Start-up: fresh process, import + first Leaderboard() + first update and top-10", "ms", "part",
                ["ours", "original", "sortedcontainers"],
                f"{cfg['startup_runs']} fresh processes per contender, alternating")
        if "ingest" in only:
            l0 = load()
            add(ingest(cfg["ingest"] or MODES["quick"]["ingest"]), l0,
                "Ingestion into Django (the example's flush_events_to_db as the callback)", "us",
                "measure (per event)", ["ours", "ours_1t", "pure_python", "before_create", "before_acreate"],
                "runs of benchmarks/bench_ingest.py, pipelines in rotating order")
    finally:
        if redis is not None:
            redis.stop()
    results["duration_s"] = time.time() - t_start
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "benchmarks.json"), "w") as f:
        json.dump(results, f, indent=1)
    pyperf.BenchmarkSuite(all_benches).dump(os.path.join(args.out, "benchmarks.pyperf.json"), replace=True)
    progress(f"done in {results['duration_s'] / 60:.1f} min: {report.write(results, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
