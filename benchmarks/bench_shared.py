"""Shared mode (docs/shared_mode.md), measured on loopback against a real redis-server:

* cross-process visibility: an update appended in one process until it is applied in another
  process's replica (p50/p90/p99/max over many single-update appends, CLOCK_MONOTONIC, which
  every process on the machine shares);
* the writer's own append (XADD + waiting for its own replica: read-your-writes);
* append throughput (updates/s) by updates per entry;
* event publish throughput (events/s: one Lua script per 256 events, pipelined);
* query latency on a replica vs an embedded board of the same size (both local, via JPype);
* Redis sorted sets used directly from Python (ZINCRBY / ZREVRANGE / ZREVRANK over a plain
  RESP socket), side by side;
* JVM threads added by a replica and by a consumer.

Measures only, asserts nothing. Usage:

    .venv/bin/python benchmarks/bench_shared.py [--redis redis://127.0.0.1:PORT/0] [--probes 2000]

Without --redis (or STREAMRANK_TEST_REDIS) it starts a throwaway redis-server (AOF on,
appendfsync everysec, like a default production setup) on a free port and stops it at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NOW = 1_700_100_000


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def summary_us(ns_values) -> str:
    us = [v / 1000 for v in ns_values]
    return (f"p50 {pct(us, 50):.0f} us, p90 {pct(us, 90):.0f} us, p99 {pct(us, 99):.0f} us, "
            f"max {max(us):.0f} us (n={len(us)})")


def engines():
    from streamrank import shared

    return shared.engines()


def jarrays():
    import jpype

    return jpype.JArray(jpype.JString), jpype.JArray(jpype.JDouble), jpype.JArray(jpype.JLong)


# ---------------------------------------------------------------- child roles

def role_reader(url, ns, probes):
    eng = engines()
    ep = eng.RedisEndpoint.open(url, 2000)
    lb = eng.ReplicatedLeaderboard.open(ep, ns, "bench", 0.95, 100000)
    print("ready", flush=True)
    seen = []
    pos = lb.appliedId()
    deadline = time.monotonic() + 120
    while len(seen) < probes and time.monotonic() < deadline:
        nxt = lb.awaitAfter(pos, 1000)
        t1 = time.monotonic_ns()
        if nxt.equals(pos):
            continue
        seen.append((str(nxt), t1))
        pos = nxt
    print(json.dumps(seen), flush=True)


def role_writer(url, ns, probes, gap):
    eng = engines()
    JS, JD, JL = jarrays()
    ep = eng.RedisEndpoint.open(url, 2000)
    lb = eng.ReplicatedLeaderboard.open(ep, ns, "bench", 0.95, 100000)
    sys.stdin.readline()  # the reader is ready
    sent, own = [], []
    for i in range(probes):
        ids, pts, ts = JS([f"p{i % 500}"]), JD([1.0]), JL([NOW])
        t0 = time.monotonic_ns()
        sid = lb.append(ids, pts, ts, 1000)
        t_own = time.monotonic_ns()
        sent.append((str(sid), t0))
        own.append(t_own - t0)
        time.sleep(gap)
    print(json.dumps({"sent": sent, "own": own}), flush=True)


# ---------------------------------------------------------------- measurements in the parent

def visibility(url, probes, gap):
    ns = "bench" + secrets.token_hex(4)
    me = [sys.executable, __file__, "--redis", url, "--ns", ns, "--probes", str(probes), "--gap", str(gap)]
    reader = subprocess.Popen(me + ["--role", "reader"], stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "ready"
    writer = subprocess.Popen(me + ["--role", "writer"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    writer.stdin.write("go\n")
    writer.stdin.flush()
    w = json.loads(writer.stdout.readline())
    r = json.loads(reader.stdout.readline())
    writer.wait()
    reader.wait()

    def key(sid):
        ms, seq = sid.split("-")
        return int(ms), int(seq)

    # A probe is visible at the first wake-up of the reader whose position reached it (two
    # probes applied by one read share that wake-up).
    seen = sorted((key(sid), t1) for sid, t1 in r)
    lat, j = [], 0
    for sid, t0 in sorted(w["sent"], key=lambda x: key(x[0])):
        while j < len(seen) and seen[j][0] < key(sid):
            j += 1
        if j < len(seen):
            lat.append(seen[j][1] - t0)
    return lat, w["own"], len(w["sent"])


def xadd_alone(url, gap, n=2000):
    """One XADD round trip from Python through the same client, with no wait for the replica:
    what a writer that applied its own batch locally at once (option A in docs) would wait."""
    import jpype

    from streamrank import _jvm

    eng = engines()
    ep = eng.RedisEndpoint.open(url, 2000)
    XAddParams = _jvm.jclass("io.streamrank.shaded.redis.jedis.params.XAddParams")
    HashMap = jpype.JClass("java.util.HashMap")
    fields = HashMap()
    fields.put("o", "bench")
    fields.put("k", "u")
    fields.put("d", "2:p11.0,1700100000;")
    key = "bench" + secrets.token_hex(4) + ":lb:x:log"

    @jpype.JImplements("java.util.function.Function")
    class Xadd:
        @jpype.JOverride
        def apply(self, j):
            return j.xadd(key, XAddParams.xAddParams(), fields)

    fn = Xadd()
    out = []
    for _ in range(n):
        t = time.monotonic_ns()
        ep.call("xadd", fn)
        out.append(time.monotonic_ns() - t)
        time.sleep(gap)  # paced like the probes, so both start from the same idle state
    ep.close()
    return out


def throughput(url, per_entry_list, total):
    eng = engines()
    JS, JD, JL = jarrays()
    ep = eng.RedisEndpoint.open(url, 5000)
    out = {}
    for per_entry in per_entry_list:
        lb = eng.ReplicatedLeaderboard.open(ep, "bench" + secrets.token_hex(4), "tp", 0.95, 1_000_000)
        call = max(per_entry, 512)  # updates per append() call (one pipelined round trip)
        ids = JS([f"u{i % 50000}" for i in range(call)])
        pts = JD([1.0] * call)
        ts = JL([NOW] * call)
        n = max(1, total // call)
        t = time.perf_counter()
        for _ in range(n):
            lb.append(ids, pts, ts, per_entry)
        dt = time.perf_counter() - t
        out[per_entry] = n * call / dt
        lb.close()
    # One update per call: the round-trip bound of a writer that does not batch.
    lb = eng.ReplicatedLeaderboard.open(ep, "bench" + secrets.token_hex(4), "tp1", 0.95, 1_000_000)
    one = (JS(["x"]), JD([1.0]), JL([NOW]))
    n = 3000
    t = time.perf_counter()
    for _ in range(n):
        lb.append(*one, 1)
    out["1 per call"] = n / (time.perf_counter() - t)
    lb.close()
    ep.close()
    return out


def publish_rate(url, total):
    eng = engines()
    JS, _, JL = jarrays()
    ep = eng.RedisEndpoint.open(url, 5000)
    s = eng.SharedEventStream(ep, "bench" + secrets.token_hex(4), "ev")
    n = 1000
    types, users = JS(["message"] * n), JS([f"u{i % 5000}" for i in range(n)])
    chans, stamps = JS([f"c{i % 50}" for i in range(n)]), JL([NOW] * n)
    calls = max(1, total // n)
    t = time.perf_counter()
    for _ in range(calls):
        s.publish(types, users, chans, stamps, 0, n, NOW)
    rate = calls * n / (time.perf_counter() - t)
    ep.close()
    return rate


def query_latency(url, users):
    import jpype

    from streamrank import _jvm

    eng = engines()
    JS, JD, JL = jarrays()
    ep = eng.RedisEndpoint.open(url, 5000)
    lb = eng.ReplicatedLeaderboard.open(ep, "bench" + secrets.token_hex(4), "q", 0.95, 1_000_000)
    embedded = _jvm.jclass("io.streamrank.leaderboard.DecayedLeaderboard")(0.95, 1_000_000)
    UpdateBatch = _jvm.jclass("io.streamrank.leaderboard.UpdateBatch")
    chunk = 5000
    for start in range(0, users, chunk):
        ids = [f"u{i}" for i in range(start, min(users, start + chunk))]
        pts = [float((i * 7919) % 10007) for i in range(start, start + len(ids))]
        lb.append(JS(ids), JD(pts), JL([NOW] * len(ids)), 1000)
        embedded.apply(UpdateBatch(JS(ids), JD(pts), JL([NOW] * len(ids))))
    out = {}
    # Twice over, keeping the second round: the first warms the JIT for both boards alike.
    for label, board in (("replica", lb.board()), ("embedded", embedded)) * 2:
        for q, fn in (("top(10)", lambda b=board: b.top(10, NOW)),
                      ("rank(user)", lambda b=board: b.rank("u4242", NOW))):
            samples = []
            for _ in range(5):
                t = time.perf_counter()
                for _ in range(2000):
                    fn()
                samples.append((time.perf_counter() - t) / 2000)
            out[(label, q)] = statistics.median(samples)
    lb.close()
    ep.close()
    del jpype
    return out


class Resp:
    """A minimal RESP2 client over a socket, for the 'Redis sorted sets from Python' baseline."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    def cmd(self, *args):
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(parts))
        return self.read()

    def read(self):
        line = self.f.readline()
        kind, rest = line[:1], line[1:-2]
        if kind in (b"+", b":"):
            return rest
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            return data[:-2]
        if kind == b"*":
            return [self.read() for _ in range(int(rest))]
        raise RuntimeError(f"bad reply {line!r}")


def zset_baseline(port, users):
    r = Resp(port)
    key = "bench" + secrets.token_hex(4) + ":z"
    for start in range(0, users, 1000):
        args = []
        for i in range(start, min(users, start + 1000)):
            args += [float((i * 7919) % 10007), f"u{i}"]
        r.cmd("ZADD", key, *args)
    out = {}
    for q, fn in (("ZINCRBY", lambda: r.cmd("ZINCRBY", key, 1, "u4242")),
                  ("ZREVRANGE 0 9", lambda: r.cmd("ZREVRANGE", key, 0, 9, "WITHSCORES")),
                  ("ZREVRANK", lambda: r.cmd("ZREVRANK", key, "u4242"))):
        samples = []
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(2000):
                fn()
            samples.append((time.perf_counter() - t) / 2000)
        out[q] = statistics.median(samples)
    r.cmd("DEL", key)
    return out


def thread_counts(url):
    import jpype

    eng = engines()
    Thread = jpype.JClass("java.lang.Thread")
    before = Thread.activeCount()
    ep = eng.RedisEndpoint.open(url, 2000)
    lb = eng.ReplicatedLeaderboard.open(ep, "bench" + secrets.token_hex(4), "th", 0.95, 1000)
    after_replica = Thread.activeCount()

    @jpype.JImplements(eng.DeliveryCallback)
    class Noop:
        @jpype.JOverride
        def deliver(self, batch):
            return True

    c = eng.SharedEventConsumer(ep, "bench" + secrets.token_hex(4), "th", Noop(), eng.ConsumerOptions.defaults())
    c.start()
    after_consumer = Thread.activeCount()
    c.close()
    lb.close()
    ep.close()
    return before, after_replica, after_consumer


def start_redis():
    binary = shutil.which("redis-server")
    if not binary:
        raise SystemExit("no redis-server on PATH (apt-get install redis-server), or pass --redis")
    d = tempfile.mkdtemp(prefix="streamrank-bench-redis")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", d,
                             "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        try:
            Resp(port).cmd("PING")
            break
        except OSError:
            time.sleep(0.02)
    return proc, d, f"redis://127.0.0.1:{port}/0"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--redis", default=os.environ.get("STREAMRANK_TEST_REDIS"))
    ap.add_argument("--probes", type=int, default=2000)
    ap.add_argument("--gap", type=float, default=0.002, help="seconds between probes")
    ap.add_argument("--updates", type=int, default=200_000, help="updates per throughput run")
    ap.add_argument("--users", type=int, default=100_000, help="board size for query latency")
    ap.add_argument("--role", choices=["reader", "writer"])
    ap.add_argument("--ns")
    a = ap.parse_args()
    if a.role == "reader":
        return role_reader(a.redis, a.ns, a.probes)
    if a.role == "writer":
        return role_writer(a.redis, a.ns, a.probes, a.gap)

    proc = tmp = None
    url = a.redis
    if not url:
        proc, tmp, url = start_redis()
    try:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        print(f"redis {url}; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}")
        lat, own, sent = visibility(url, a.probes, a.gap)
        print(f"cross-process visibility (append in A -> applied in B): {summary_us(lat)}"
              + (f"; {sent - len(lat)} of {sent} probes never seen" if sent != len(lat) else ""))
        print(f"writer's own append incl. read-your-writes wait:      {summary_us(own)}")
        print(f"XADD alone, same client, no wait (option A's cost):    {summary_us(xadd_alone(url, a.gap))}")
        for k, v in throughput(url, [1, 16, 128, 512], a.updates).items():
            label = k if isinstance(k, str) else f"{k} updates/entry, 512 per call"
            print(f"append throughput, {label:32s} {v:12,.0f} updates/s")
        print(f"event publish throughput (1000 per call)            {publish_rate(url, a.updates):12,.0f} events/s")
        q = query_latency(url, a.users)
        for (label, name), v in sorted(q.items()):
            print(f"query {name:12s} on {label:8s} board of {a.users} users: {v * 1e6:7.2f} us")
        for name, v in zset_baseline(port, a.users).items():
            print(f"Redis sorted set from Python, {name:14s} ({a.users} members): {v * 1e6:7.2f} us")
        b, r, c = thread_counts(url)
        print(f"JVM threads: {b} before, {r} with a replica (+{r - b}), {c} with a consumer too (+{c - r})")
    finally:
        if proc:
            proc.kill()
            proc.wait()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
