"""Every benchmark in one command: writes docs/benchmarks.md, docs/benchmarks.json and PNG plots in
docs/img/. Progress goes to stderr while it runs.

    ./build.sh bench            # full run (< 20 min on a 2-core machine)
    ./build.sh bench --quick    # smaller sizes, fewer repeats (< 3 min)
    .venv/bin/python benchmarks/run.py --render docs/benchmarks.json   # redo report + plots only

Sections (each measured side by side in the same run):
  1. JVM start and first-call latency (fresh interpreters)
  2. leaderboard: ours vs sortedcontainers vs Redis sorted sets vs SQL ORDER BY (SQLite, PostgreSQL)
     at 1K..1M users: update, top-10, rank, page of 50; memory per user; snapshot save/load
  3. the event processor alone (no database): ours vs a pure-Python pipeline
  4. event ingestion into Django (SQLite, PostgreSQL): ours vs a pure-Python pipeline vs the
     guide's one-ORM-write-per-event "before"
  5. JMH of the Java core
Servers (redis-server, PostgreSQL) are started on loopback for the run and stopped at its end.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from _common import Steps, load_average, machine, progress  # noqa: E402

FULL = dict(mode="full", sizes=[1_000, 10_000, 100_000, 1_000_000], repeats=5, budget_s=0.08,
            sql_max=1_000_000, snapshot_sizes=[100_000, 1_000_000], jvm_runs=5,
            ingest_events=20_000, before_events=500, ingest_repeats=5,
            proc_events=300_000, proc_guide_events=20_000,
            jmh_args=["-f", "1", "-wi", "2", "-i", "3", "-w", "1s", "-r", "1s"])
QUICK = dict(mode="quick", sizes=[1_000, 10_000, 100_000], repeats=3, budget_s=0.04,
             sql_max=100_000, snapshot_sizes=[100_000], jvm_runs=3,
             ingest_events=10_000, before_events=200, ingest_repeats=3,
             proc_events=100_000, proc_guide_events=5_000,
             jmh_args=["-f", "1", "-wi", "1", "-i", "2", "-w", "300ms", "-r", "300ms", "-p", "users=100000"])

STARTUP_CODE = r"""
import json, time
t0 = time.perf_counter()
import {module}
t1 = time.perf_counter()
{construct}
t2 = time.perf_counter()
{first}
t3 = time.perf_counter()
{first}
t4 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "construct_s": t2 - t1, "first_call_s": t3 - t2,
                  "second_call_s": t4 - t3}}))
"""
STARTUP = {
    "leaderboard": dict(
        module="cpp_leaderboard",
        construct="obj = cpp_leaderboard.Leaderboard(decay_factor=0.95, max_users=100000)",
        first="obj.update_user('u1', 5.0, 0); obj.get_top_users(10); obj.get_user_rank('u1')"),
    "processor": dict(
        module="cpp_event_processor",
        construct="obj = cpp_event_processor.EventStreamProcessor(16384, 4, 500, 1000); "
                  "obj.set_flush_callback(lambda events: None)",
        first="obj.push_event('message', 'u1', 'c1', 0); obj.flush_now()"),
}


def versions(redis_server=None, pg_server=None) -> dict:
    def mod(name):
        try:
            m = __import__(name)
            return getattr(m, "__version__", getattr(m, "VERSION", "?"))
        except Exception:
            return "n/a"
    out = {"django": mod("django"), "sortedcontainers": mod("sortedcontainers"),
           "redis-py": mod("redis"), "psycopg": mod("psycopg"), "matplotlib": mod("matplotlib"),
           "sqlite": sqlite3.sqlite_version,
           "redis-server": redis_server.version if redis_server else "n/a",
           "postgresql": pg_server.version if pg_server else "n/a"}
    try:
        out["streamrank"] = __import__("streamrank").__version__
    except Exception:
        out["streamrank"] = "n/a"
    return out


def git_commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=10).stdout.strip()
        # The report's own outputs under docs/ do not count as changes to what was measured.
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return sha + (" (with uncommitted changes)" if dirty else "")
    except Exception:
        return "n/a"


# ------------------------------------------------------------------------------------- sections

def section_startup(cfg, step) -> dict:
    """Fresh interpreters: import, construct (starts the JVM), first call, second call; plus the
    cost of the interpreter alone and of importing sortedcontainers, for scale."""
    out = {}
    for name, parts in STARTUP.items():
        step(f"JVM start + first call: {name} ({cfg['jvm_runs']} fresh interpreters)")
        runs = []
        for _ in range(cfg["jvm_runs"]):
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-c", STARTUP_CODE.format(**parts)],
                                  capture_output=True, text=True, timeout=120)
            wall = time.perf_counter() - t0
            if proc.returncode != 0:
                out[name] = {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
                break
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            row["process_s"] = wall
            runs.append(row)
        else:
            out[name] = {k: [r[k] for r in runs] for k in runs[0]}
    base = []
    for _ in range(cfg["jvm_runs"]):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import sortedcontainers"], check=True)
        base.append(time.perf_counter() - t0)
    out["python_only"] = {"process_s": base}
    return out


def ipc_round_trip(redis_server, repeats) -> dict:
    """Redis PING from redis-py over TCP loopback and the Unix socket: what one round trip to
    another process costs on this machine (context for every client/server baseline)."""
    import redis
    from _common import calibrate, sample_median
    out = {}
    for label, kw in (("tcp", redis_server.client_kwargs(tcp=True)), ("unix", redis_server.client_kwargs())):
        r = redis.Redis(**kw)
        fn = lambda _a: r.ping()  # noqa: E731
        calls = calibrate(fn, [None], 0.05)
        out[label] = [sample_median(fn, [None], calls) for _ in range(repeats)]
        r.close()
    return out


def jpype_call_cost(repeats) -> list:
    """Median latency of one bare Python-to-Java call (``System.nanoTime()``), per repeat."""
    import jpype
    from streamrank import _jvm
    from _common import calibrate, sample_median
    _jvm.start()
    nano = jpype.JClass("java.lang.System").nanoTime
    fn = lambda _a: nano()  # noqa: E731
    calls = calibrate(fn, [None], 0.05)
    for _ in range(20000):  # JIT and JPype caches warm
        nano()
    return [sample_median(fn, [None], calls) for _ in range(repeats)]


def section_leaderboards(cfg, step, redis_server, pg_server, models) -> list:
    import compare_leaderboards as cl
    from baselines.boards import RedisBoard, SortedBoard, SqlBoard
    now = int(time.time())
    ref = now - 31 * 86400
    sizes = []
    step("leaderboard: warming up ours (JIT) on a 20K-user board")
    try:
        cl.warm_up_ours(2.0 if cfg["mode"] == "quick" else 4.0)
    except Exception as exc:
        progress(f"  ours unavailable: {exc}")
    for n in cfg["sizes"]:
        contenders = {"ours": cl.OursBoard,
                      "sortedcontainers": SortedBoard}
        if redis_server is not None:
            contenders["redis"] = lambda: RedisBoard(redis_server.client_kwargs(), ref=ref)
        if models is not None and n <= cfg["sql_max"]:
            contenders["sqlite"] = lambda: SqlBoard("sqlite", models["User"])
            if pg_server is not None:
                contenders["pg"] = lambda: SqlBoard("pg", models["User"])
        step(f"leaderboard at {n:,} users: {', '.join(contenders)}")
        sizes.append(cl.measure(n, contenders, cfg["repeats"], cfg["budget_s"], progress,
                                snapshot=n in cfg["snapshot_sizes"], now=now))
    return sizes


def section_processor(cfg, step) -> dict:
    """The processor alone, no database: the measurements of benchmarks/bench_processor.py
    (issue 3), ours and its pure-Python baseline interleaved per repeat."""
    step(f"processor alone: {cfg['proc_events']:,} events per run, {cfg['repeats']} repeats")
    import bench_processor as bp
    events = bp.make_events(cfg["proc_events"])
    guide_events = events[:cfg["proc_guide_events"]]
    bp.push_to_callback(bp.ours, events[:50_000])  # JIT warm-up, both paths once
    bp.push_only(bp.ours, events[:50_000])
    bp.push_to_callback(bp.baseline, events[:20_000])
    rows = {k: [] for k in ("floor", "push", "push_py", "cb", "cb_py", "guide")}

    def add(key, value):
        # bench_processor's measures return (figure, CPU seconds per event) or a bare figure.
        if isinstance(value, tuple):
            rows.setdefault(key + "_cpu", []).append(value[1])
            value = value[0]
        rows[key].append(value)

    for r in range(cfg["repeats"]):
        progress(f"processor alone: repeat {r + 1}/{cfg['repeats']}")
        add("floor", bp.loop_floor(events))
        add("push", bp.push_only(bp.ours, events))
        add("push_py", bp.push_only(bp.baseline, events))
        add("cb", bp.push_to_callback(bp.ours, events))
        add("cb_py", bp.push_to_callback(bp.baseline, events))
        add("guide", bp.guide_pattern(guide_events))
    return {"events": cfg["proc_events"], "guide_events": cfg["proc_guide_events"], "rows": rows}


def section_ingest(cfg, step, pg_server) -> dict:
    out = {}
    dbs = [("sqlite", None)] + ([("pg", pg_server.port)] if pg_server is not None else [])
    for db, port in dbs:
        step(f"ingestion into {db}: {cfg['ingest_events']:,} events per pipeline run, "
             f"{cfg['before_events']:,} per 'before' run, {cfg['ingest_repeats']} repeats")
        cmd = [sys.executable, os.path.join(HERE, "bench_ingest.py"), "--db", db, "--json",
               "--events", str(cfg["ingest_events"]), "--before-events", str(cfg["before_events"]),
               "--repeats", str(cfg["ingest_repeats"])]
        if port:
            cmd += ["--pg-port", str(port)]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=900)
        if proc.returncode != 0 or not proc.stdout.strip():
            out[db] = {"error": f"bench_ingest.py exited with {proc.returncode}"}
            continue
        out[db] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def _jar_is_fresh(jar: str) -> bool:
    """True when ``jar`` exists and is newer than every pom and Java source it is built from."""
    if not os.path.exists(jar):
        return False
    built = os.path.getmtime(jar)
    sources = [os.path.join(ROOT, "pom.xml"), os.path.join(ROOT, "java-core", "pom.xml"),
               os.path.join(ROOT, "benchmarks", "jmh", "pom.xml")]
    for top in (os.path.join(ROOT, "java-core", "src", "main"), os.path.join(ROOT, "benchmarks", "jmh", "src")):
        for folder, _dirs, files in os.walk(top):
            sources += [os.path.join(folder, f) for f in files]
    return all(os.path.getmtime(p) < built for p in sources if os.path.exists(p))


def section_jmh(cfg, step) -> dict:
    step("JMH: building the benchmark jar (mvn -Pbench package)")
    jar = os.path.join(ROOT, "benchmarks", "jmh", "target", "streamrank-jmh.jar")
    t0 = time.perf_counter()
    if _jar_is_fresh(jar):
        progress("  the JMH jar is newer than every Java source and pom: no rebuild")
        build = subprocess.CompletedProcess([], 0, "", "")
    else:
        build = subprocess.run(["mvn", "-B", "-q", "-o", "-Pbench", "-DskipTests", "package"], cwd=ROOT,
                               capture_output=True, text=True)
        if build.returncode != 0:  # offline failed (a plugin not cached yet): allow the network
            build = subprocess.run(["mvn", "-B", "-q", "-Pbench", "-DskipTests", "package"], cwd=ROOT,
                                   capture_output=True, text=True)
    build_s = time.perf_counter() - t0
    if build.returncode != 0 or not os.path.exists(jar):
        return {"error": "mvn -Pbench package failed: " + (build.stdout + build.stderr).strip()[-500:]}
    listing = subprocess.run(["java", "-jar", jar, "-l"], capture_output=True, text=True).stdout
    names = [line.strip() for line in listing.splitlines() if line.strip().startswith("io.streamrank")]
    step(f"JMH: running {len(names)} benchmarks ({' '.join(cfg['jmh_args'])})")
    with tempfile.TemporaryDirectory(prefix="bench-jmh-") as tmp:
        result = os.path.join(tmp, "jmh.json")
        cmd = ["java", "-jar", jar, *cfg["jmh_args"], "-rf", "json", "-rff", result]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:  # JMH's own lines, condensed into progress
            if line.startswith("# Benchmark:"):
                progress("  JMH " + line.split(":", 1)[1].strip())
        proc.wait()
        if proc.returncode != 0 or not os.path.exists(result):
            return {"error": f"JMH exited with {proc.returncode}", "build_s": build_s}
        with open(result) as f:
            raw = json.load(f)
    rows = []
    for b in raw:
        pm = b["primaryMetric"]
        rows.append({"benchmark": b["benchmark"].replace("io.streamrank.bench.", ""),
                     "mode": b["mode"], "params": b.get("params", {}), "threads": b.get("threads", 1),
                     "score": pm["score"], "error": pm.get("scoreError"), "unit": pm["scoreUnit"],
                     "samples": [x for run in pm.get("rawData", []) for x in run]})
    return {"rows": rows, "command": " ".join(["java -jar benchmarks/jmh/target/streamrank-jmh.jar",
                                                *cfg["jmh_args"]]), "build_s": build_s,
            "jdk": raw[0].get("jdkVersion", "?") if raw else "?",
            "vm": raw[0].get("vmName", "?") if raw else "?"}


# ------------------------------------------------------------------------------------------ main

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats (< 3 min)")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs"), help="folder for benchmarks.md/.json and img/")
    ap.add_argument("--skip", action="append", default=[], choices=("startup", "leaderboard", "processor", "ingest", "jmh"),
                    help="leave a section out (repeatable)")
    ap.add_argument("--render", metavar="JSON", help="only redo the report and plots from a results file")
    args = ap.parse_args(argv)

    import report
    if args.render:
        with open(args.render) as f:
            results = json.load(f)
        report.write(results, args.out)
        progress(f"wrote {os.path.join(args.out, 'benchmarks.md')}")
        return 0

    # A SIGTERM (a CI timeout, kill) unwinds like Ctrl-C, so the servers below are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cfg = QUICK if args.quick else FULL
    command = "./build.sh bench" + (" --quick" if args.quick else "") + \
        "".join(f" --skip {s}" for s in args.skip)
    total = 2 + (2 if "startup" not in args.skip else 0) + \
        (len(cfg["sizes"]) + 1 if "leaderboard" not in args.skip else 0) + \
        (1 if "processor" not in args.skip else 0) + (2 if "ingest" not in args.skip else 0) + (2 if "jmh" not in args.skip else 0)
    step = Steps(total)
    t_start = time.time()
    results = {"command": command, "config": cfg, "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
               "machine": machine(), "load_start": load_average(), "commit": git_commit(),
               "notes": {}}
    from baselines.servers import PostgresServer, RedisServer

    with contextlib.ExitStack() as stack:
        step("starting redis-server and PostgreSQL on loopback (temporary, no persistence)")
        redis_server = pg_server = None
        try:
            redis_server = stack.enter_context(RedisServer())
        except Exception as exc:
            results["notes"]["redis"] = f"skipped: {exc}"
            progress(f"  Redis baseline skipped: {exc}")
        try:
            pg_server = stack.enter_context(PostgresServer())
        except Exception as exc:
            results["notes"]["postgresql"] = f"skipped: {exc}"
            progress(f"  PostgreSQL baselines skipped: {exc}")
        models = None
        try:
            from baselines.django_env import configure
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-sqlite-"))
            models = configure(os.path.join(tmp, "db.sqlite3"), pg_server.dsn() if pg_server else None)
            results["models"] = models["source"]
        except Exception as exc:
            results["notes"]["django"] = f"SQL baselines skipped: {exc}"
        results["versions"] = versions(redis_server, pg_server)
        step("IPC round trip (Redis PING), one bare JPype call")
        if redis_server is not None:
            results["ipc"] = ipc_round_trip(redis_server, cfg["repeats"])
        if "startup" not in args.skip:
            results["startup"] = section_startup(cfg, step)
        try:
            results["jpype_call"] = jpype_call_cost(cfg["repeats"])
        except Exception as exc:
            results["notes"]["jpype"] = f"JVM unavailable: {exc}"
        if "leaderboard" not in args.skip:
            results["leaderboard"] = section_leaderboards(cfg, step, redis_server, pg_server, models)
        if "processor" not in args.skip:
            try:
                results["processor"] = section_processor(cfg, step)
            except Exception as exc:
                results["notes"]["processor"] = f"processor benchmark skipped: {type(exc).__name__}: {exc}"
                progress(f"  processor benchmark skipped: {exc}")
        if "ingest" not in args.skip:
            results["ingest"] = section_ingest(cfg, step, pg_server)
        if "jmh" not in args.skip:
            results["jmh"] = section_jmh(cfg, step)
        progress("stopping the servers")
    results["load_end"] = load_average()
    results["duration_s"] = time.time() - t_start
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "benchmarks.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    report.write(results, args.out)
    progress(f"done in {results['duration_s'] / 60:.1f} min: wrote {os.path.join(args.out, 'benchmarks.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
