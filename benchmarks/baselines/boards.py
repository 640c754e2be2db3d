"""The leaderboard contenders behind one interface, so every row times the same calls:

    populate(rows)            rows: (user_id, points, timestamp) tuples, into an empty board
    update(user_id, points, timestamp)
    sync()                    every staged update applied (ours stages and applies in batches;
                              the amortised update timing ends with it)
    top(k), rank(user_id), page(start)   page = 50 entries from 0-based position ``start``

* ``Ours``: ``cpp_leaderboard.Leaderboard`` (the Java core through JPype).
* ``Original``: the original C++/pybind11 extension (``original.load``); it has no page call,
  so a page is ``get_top_users(start + 50)[start:]``, the only way its API (and the guide's)
  offers.
* ``Sorted``: a decayed board on ``sortedcontainers``: each contribution is normalised to a
  reference time (points * decay ** ((ref - t) / 1 day)), so the order never changes as time
  passes and a score is decayed once, when returned: what a Python user would write instead.
* ``Redis``: a Redis sorted set used directly from Python with the same normalisation
  (ZINCRBY per update, ZREVRANGE for top and pages, ZREVRANK + ZSCORE for a rank), last-update
  times in a hash.
"""
from __future__ import annotations

import math
import time

from sortedcontainers import SortedList

DAY = 86400.0
DECAY = 0.95
PAGE = 50


class Ours:
    def __init__(self, module=None) -> None:
        if module is None:
            import cpp_leaderboard as module
        self.lb = module.Leaderboard(decay_factor=DECAY, max_users=0)
        # get_rank_range is ours (a Redis-style window); without it, page as the guide allows.
        self._range = getattr(self.lb, "get_rank_range", None)

    def populate(self, rows) -> None:
        bulk = getattr(self.lb, "update_users", None)
        if bulk is not None:
            bulk(rows)
        else:
            up = self.lb.update_user
            for u, p, t in rows:
                up(u, p, t)
        self.lb.size()

    def update(self, user_id, points, ts):
        self.lb.update_user(user_id, points, ts)

    def sync(self):
        self.lb.size()

    def top(self, k):
        return self.lb.get_top_users(k)

    def rank(self, user_id):
        return self.lb.get_user_rank(user_id)

    def page(self, start):
        if self._range is not None:
            return self._range(start, start + PAGE - 1)
        return self.lb.get_top_users(start + PAGE)[start:]


class Original(Ours):
    """Same calls; its ``max_users=0`` also means no cap; it has neither bulk load nor pages."""

    def __init__(self) -> None:
        from baselines import original
        super().__init__(original.load()[1])
        self._range = None


class Sorted:
    def __init__(self) -> None:
        self.log_decay = math.log(DECAY)
        self.ref = None
        self.users = {}  # user_id -> [normalised score, last update]
        self.order = SortedList()  # (-normalised, user_id): best first, ties by id

    def _factor(self) -> float:
        return math.exp(self.log_decay * (time.time() - self.ref) / DAY) if self.ref is not None else 1.0

    def populate(self, rows) -> None:
        for u, p, t in rows:
            self.update(u, p, t)

    def update(self, user_id, points, ts):
        if self.ref is None:
            self.ref = ts
        add = points * math.exp(-self.log_decay * (ts - self.ref) / DAY)
        entry = self.users.get(user_id)
        if entry is None:
            self.users[user_id] = [add, ts]
            self.order.add((-add, user_id))
            return
        self.order.remove((-entry[0], user_id))
        entry[0] += add
        if ts > entry[1]:
            entry[1] = ts
        self.order.add((-entry[0], user_id))

    def sync(self):
        len(self.users)

    def _entries(self, start, stop):
        f = self._factor()
        users = self.users
        return [{"rank": start + i + 1, "user_id": u, "score": -neg * f, "last_update": users[u][1]}
                for i, (neg, u) in enumerate(self.order.islice(start, stop))]

    def top(self, k):
        return self._entries(0, k)

    def rank(self, user_id):
        entry = self.users.get(user_id)
        if entry is None:
            return None
        return {"rank": self.order.index((-entry[0], user_id)) + 1, "user_id": user_id,
                "score": entry[0] * self._factor(), "last_update": entry[1]}

    def page(self, start):
        return self._entries(start, start + PAGE)


class Redis:
    def __init__(self, client_kwargs: dict, ref: float) -> None:
        import redis
        self.r = redis.Redis(**client_kwargs)
        self.log_decay = math.log(DECAY)
        self.ref = ref
        self.r.delete("lb", "lb:ts")

    def _norm(self, points, ts):
        return points * math.exp(-self.log_decay * (ts - self.ref) / DAY)

    def _factor(self):
        return math.exp(self.log_decay * (time.time() - self.ref) / DAY)

    def populate(self, rows) -> None:
        for i in range(0, len(rows), 20000):
            chunk = rows[i:i + 20000]
            pipe = self.r.pipeline(transaction=False)
            pipe.zadd("lb", {u: self._norm(p, t) for u, p, t in chunk})
            pipe.hset("lb:ts", mapping={u: t for u, _, t in chunk})
            pipe.execute()

    def update(self, user_id, points, ts):
        pipe = self.r.pipeline(transaction=False)
        pipe.zincrby("lb", self._norm(points, ts), user_id)
        pipe.hset("lb:ts", user_id, ts)
        pipe.execute()

    def sync(self):
        pass

    def _entries(self, start, stop):
        f = self._factor()
        return [{"rank": start + i + 1, "user_id": u.decode(), "score": s * f}
                for i, (u, s) in enumerate(self.r.zrevrange("lb", start, stop - 1, withscores=True))]

    def top(self, k):
        return self._entries(0, k)

    def rank(self, user_id):
        pipe = self.r.pipeline(transaction=False)
        pipe.zrevrank("lb", user_id)
        pipe.zscore("lb", user_id)
        pipe.hget("lb:ts", user_id)
        rank, score, ts = pipe.execute()
        if rank is None:
            return None
        return {"rank": rank + 1, "user_id": user_id, "score": score * self._factor(), "last_update": int(ts)}

    def page(self, start):
        return self._entries(start, start + PAGE)

    def close(self):
        self.r.delete("lb", "lb:ts")
        self.r.close()
