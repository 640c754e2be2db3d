"""Leaderboard baselines with the operations the benchmark times, behind one small interface:

    populate(rows)         rows: list of (user_id, points, timestamp); replaces the contents
    update(user_id, points, timestamp)
    top(k)                 the k best, best first
    rank(user_id)          the user's rank and score (or None)
    page(start)            50 entries from 0-based rank ``start``
    memory_bytes()         bytes the structure holds (for memory per user), or None
    close()

* ``RedisBoard``: a Redis sorted set (ZINCRBY / ZREVRANGE / ZREVRANK), the usual choice for a
  live leaderboard. Decay as ours does it: each contribution is stored normalised to a fixed
  reference time (points * decay ** -(t - ref) / 1 day), so ZINCRBY keeps the order right and
  a score is decayed only when returned. Last-update times live in a hash.
* ``SqlBoard``: the guide's "before": ``User.objects.filter(role='student')
  .order_by('-total_points')[:10]`` through the Django ORM on SQLite or PostgreSQL, with an index
  on (role, total_points); no decay (the guide's table holds plain totals).
* ``SortedBoard``: the pure-Python ``sortedcontainers`` baseline of benchmarks/bench_leaderboard.py.
"""
from __future__ import annotations

import datetime as _dt
import math

DAY = 86400.0
PAGE = 50


class RedisBoard:
    name = "Redis sorted set"

    def __init__(self, client_kwargs: dict, decay_factor: float = 0.95, ref: float = 0.0) -> None:
        import redis
        self.r = redis.Redis(**client_kwargs)
        self.key, self.ts_key = "lb", "lb:ts"
        self.log_decay = math.log(decay_factor)
        self.ref = ref
        self.r.flushall()
        self.base_memory = int(self.r.info("memory")["used_memory"])

    def _norm(self, points: float, ts: float) -> float:
        return points * math.exp(-self.log_decay * (ts - self.ref) / DAY)

    def _decay_now(self) -> float:
        import time
        return math.exp(self.log_decay * (time.time() - self.ref) / DAY)

    def populate(self, rows) -> None:
        self.r.flushall()
        self.base_memory = int(self.r.info("memory")["used_memory"])
        norm = self._norm
        for i in range(0, len(rows), 20000):
            chunk = rows[i:i + 20000]
            pipe = self.r.pipeline(transaction=False)
            pipe.zadd(self.key, {u: norm(p, t) for u, p, t in chunk})
            pipe.hset(self.ts_key, mapping={u: t for u, _, t in chunk})
            pipe.execute()

    def update(self, user_id: str, points: float, ts: int) -> None:
        pipe = self.r.pipeline(transaction=False)
        pipe.zincrby(self.key, self._norm(points, ts), user_id)
        pipe.hset(self.ts_key, user_id, ts)
        pipe.execute()

    def top(self, k: int):
        f = self._decay_now()
        return [(i + 1, u.decode(), s * f)
                for i, (u, s) in enumerate(self.r.zrevrange(self.key, 0, k - 1, withscores=True))]

    def rank(self, user_id: str):
        pipe = self.r.pipeline(transaction=False)
        pipe.zrevrank(self.key, user_id)
        pipe.zscore(self.key, user_id)
        pipe.hget(self.ts_key, user_id)
        rank, score, ts = pipe.execute()
        if rank is None:
            return None
        return rank + 1, user_id, score * self._decay_now(), int(ts)

    def page(self, start: int):
        f = self._decay_now()
        return [(start + i + 1, u.decode(), s * f) for i, (u, s) in
                enumerate(self.r.zrevrange(self.key, start, start + PAGE - 1, withscores=True))]

    def memory_bytes(self) -> int:
        return int(self.r.info("memory")["used_memory"]) - self.base_memory

    def close(self) -> None:
        try:
            self.r.flushall()
        finally:
            self.r.close()


class SqlBoard:
    """The guide's "before" on one Django database alias ('sqlite' or 'pg')."""

    NON_STUDENT_SHARE = 20  # every 20th row is a non-student the query filters out

    def __init__(self, alias: str, User) -> None:
        self.alias = alias
        self.User = User
        self.qs = User.objects.using(alias)
        self.name = {"sqlite": "SQLite ORDER BY", "pg": "PostgreSQL ORDER BY"}.get(alias, alias)

    def populate(self, rows) -> None:
        from django.db import connections, transaction
        from .django_env import create_tables
        create_tables(self.alias, self.User)
        conn = connections[self.alias]
        with transaction.atomic(using=self.alias):
            self._load(conn, rows)
        with conn.cursor() as cur:  # as autovacuum would have done on a live database
            cur.execute(f'{"VACUUM " if conn.vendor == "postgresql" else ""}ANALYZE "{self.User._meta.db_table}"')

    def _load(self, conn, rows) -> None:
        User = self.User
        table = User._meta.db_table
        col = {f.name: f.column for f in User._meta.concrete_fields}
        cols = [col[c] for c in ("discord_id", "display_name", "university", "role", "total_points", "updated_at")]
        fromts = _dt.datetime.fromtimestamp

        def records():
            for i, (u, p, t) in enumerate(rows):
                yield (u, f"user {u[-6:]}", "Example University", "student", int(p), fromts(t))
                if i % self.NON_STUDENT_SHARE == 0:  # staff rows the filter has to skip
                    yield ("s" + u, "staff", "", "mentor", int(p), fromts(t))

        with conn.cursor() as cur:
            if conn.vendor == "postgresql":
                raw = cur.cursor  # psycopg 3 cursor: COPY is how one loads 1M rows into PostgreSQL
                with raw.copy(f'COPY "{table}" ({", ".join(cols)}) FROM STDIN') as copy:
                    for rec in records():
                        copy.write_row(rec)
            else:
                sql = f'INSERT INTO "{table}" ({", ".join(cols)}) VALUES (?, ?, ?, ?, ?, ?)'
                cur.executemany(sql.replace("?", "%s"), list(records()))
            cur.execute(f'CREATE INDEX bench_role_points ON "{table}" ({col["role"]}, {col["total_points"]})')

    def update(self, user_id: str, points: float, ts: int) -> None:
        from django.db.models import F
        self.qs.filter(discord_id=user_id).update(
            total_points=F("total_points") + int(points), updated_at=_dt.datetime.fromtimestamp(ts))

    def top(self, k: int):
        return list(self.qs.filter(role="student").order_by("-total_points")[:k]
                    .values("discord_id", "display_name", "total_points", "updated_at"))

    def rank(self, user_id: str):
        row = self.qs.filter(discord_id=user_id).values("total_points", "updated_at").first()
        if row is None:
            return None
        ahead = self.qs.filter(role="student", total_points__gt=row["total_points"]).count()
        return ahead + 1, user_id, row["total_points"], row["updated_at"]

    def page(self, start: int):
        return list(self.qs.filter(role="student").order_by("-total_points")[start:start + PAGE]
                    .values("discord_id", "display_name", "total_points", "updated_at"))

    def memory_bytes(self):
        """Bytes of the table plus its indexes on disk (what the database holds per user)."""
        from django.db import connections
        conn = connections[self.alias]
        table = self.User._meta.db_table
        with conn.cursor() as cur:
            if conn.vendor == "postgresql":
                cur.execute("SELECT pg_total_relation_size(%s)", [table])
                return int(cur.fetchone()[0])
            try:
                cur.execute("SELECT SUM(pgsize) FROM dbstat WHERE name = %s OR name IN "
                            "(SELECT name FROM sqlite_master WHERE tbl_name = %s)", [table, table])
                return int(cur.fetchone()[0])
            except Exception:
                return None

    def close(self) -> None:
        from django.db import connections
        from .django_env import create_tables
        create_tables(self.alias, self.User)  # empty it again
        connections[self.alias].close()


class SortedBoard:
    """The leaderboard issue's pure-Python baseline, ``bench_leaderboard.SortedListLeaderboard``
    (a ``sortedcontainers.SortedList`` with the same API and decay semantics as ours), plus a
    page of 50 read from its sorted list."""
    name = "sortedcontainers"

    def __init__(self, decay_factor: float = 0.95) -> None:
        import bench_leaderboard
        self.lb = bench_leaderboard.SortedListLeaderboard(decay_factor=decay_factor, max_users=0)

    def populate(self, rows) -> None:
        self.lb.update_users(rows)

    def update(self, user_id, points, ts):
        self.lb.update_user(user_id, points, ts)

    def top(self, k):
        return self.lb.get_top_users(k)

    def rank(self, user_id):
        return self.lb.get_user_rank(user_id)

    def page(self, start):
        lb = self.lb
        factor = lb._factor()
        users = lb.users
        return [{"rank": start + i + 1, "user_id": uid, "score": -neg * factor, "last_update": users[uid][1]}
                for i, (neg, uid) in enumerate(lb.order.islice(start, start + PAGE))]

    def memory_bytes(self):
        return None  # measured with tracemalloc around populate()

    def close(self):
        self.lb = None
