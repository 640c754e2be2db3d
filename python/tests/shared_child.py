"""A child process of the shared-mode tests: one writer, reader, publisher or consumer, each a
separate Python with its own JVM, talking to Redis through the Java engines.

Protocol: JSON lines on stdout, flushed one by one, so the parent knows exactly what was sent
and what was acknowledged even when it kills the child with SIGKILL:

    ["ready"]                      engines open
    ["send", batch]                about to append/publish `batch`
    ["ack", id, ...]               Redis took it (ids)
    ["refused", message]           Redis did not take it (SharedUnavailableException)
    ["board", [[rank, id, score, last_update], ...], applied_id]   (reader, on "dump")
    ["delivered", [stream ids], [delivery counts]]   (consumer: recorded *before* the
                                   callback returns True)
Readers and consumers also take commands on stdin: "dump", "quit".
"""
from __future__ import annotations

import json
import random
import sys
import time


def out(*item) -> None:
    sys.stdout.write(json.dumps(list(item)) + "\n")
    sys.stdout.flush()


def main() -> None:
    role, url, ns, name = sys.argv[1:5]
    opts = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
    import jpype

    from streamrank import shared

    eng = shared.engines()
    endpoint = eng.RedisEndpoint.open(url, int(opts.get("timeout_ms", 1000)))
    Unavailable = eng.SharedUnavailableException
    JS, JD, JL = jpype.JArray(jpype.JString), jpype.JArray(jpype.JDouble), jpype.JArray(jpype.JLong)
    rnd = random.Random(opts.get("seed", 0))
    now = int(opts.get("now", 1_700_100_000))

    if role == "writer":
        lb = eng.ReplicatedLeaderboard.open(endpoint, ns, name, 0.95, 100000)
        out("ready", str(lb.origin()))
        for b in range(int(opts.get("batches", 50))):
            n = rnd.randint(1, 20)
            ids = [f"u{rnd.randrange(300)}" for _ in range(n)]
            pts = [rnd.randrange(1, 1000) / 7.0 for _ in range(n)]
            ts = [now - rnd.randrange(86400 * 2) for _ in range(n)]
            out("send", [ids, pts, ts])
            try:
                sid = lb.append(JS(ids), JD(pts), JL(ts), 1000)
                out("ack", str(sid))
            except Unavailable as exc:
                out("refused", str(exc.getMessage()))
                time.sleep(float(opts.get("refused_pause", 0.05)))
            every = int(opts.get("snapshot_every", 0))
            if every and (b + 1) % every == 0:
                try:
                    lb.snapshotNow()
                except Unavailable:
                    pass
            pause = float(opts.get("pause", 0))
            if pause:
                time.sleep(pause)
        out("done")
        sys.stdin.readline()
        return

    if role == "reader":
        lb = eng.ReplicatedLeaderboard.open(endpoint, ns, name, 0.95, 100000)
        out("ready", str(lb.origin()))
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "dump":
                caught = bool(lb.catchUp(20000))
                rows = [[int(u.rank()), str(u.userId()), float(u.score()), int(u.lastUpdate())]
                        for u in lb.board().top(1 << 30, now)]
                out("board", rows, str(lb.appliedId()), caught, int(lb.reloads()))
            elif cmd == "quit":
                break
        return

    if role == "publisher":
        stream = eng.SharedEventStream(endpoint, ns, name)
        out("ready")
        for _ in range(int(opts.get("batches", 20))):
            n = rnd.randint(1, 50)
            users = [f"u{rnd.randrange(100)}" for _ in range(n)]
            chans = [f"c{rnd.randrange(5)}" for _ in range(n)]
            out("send", n)
            try:
                ids = stream.publish(JS(["message"] * n), JS(users), JS(chans), JL([now] * n), 0, n, now)
                out("ack", [str(i) for i in ids])
            except Unavailable as exc:
                out("refused", str(exc.getMessage()))
            pause = float(opts.get("pause", 0))
            if pause:
                time.sleep(pause)
        out("done")
        sys.stdin.readline()
        return

    if role == "consumer":
        slow = float(opts.get("slow", 0))

        @jpype.JImplements(eng.DeliveryCallback)
        class Callback:
            @jpype.JOverride
            def deliver(self, batch):
                ids = [str(e.streamId()) for e in batch]
                counts = [int(e.deliveryCount()) for e in batch]
                out("delivered", ids, counts)  # "stored" (the parent's log is the database)
                if slow:
                    time.sleep(slow)
                return True

        options = eng.ConsumerOptions(int(opts.get("batch", 20)), 200, int(opts.get("claim_idle_ms", 1000)), 3, 10)
        consumer = eng.SharedEventConsumer(endpoint, ns, name, Callback(), options)
        consumer.start()
        out("ready", str(consumer.name()))
        for line in sys.stdin:
            if line.strip() == "quit":
                break
        consumer.close()
        out("closed", int(consumer.deliveredCount()))
        return

    raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main()
