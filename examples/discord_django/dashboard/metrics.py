"""Live numbers for the dashboard: a sampler thread reads the processor, the leaderboard and the
database once a second and keeps the last few minutes; ``FlushMeter`` times the guide's
``flush_events_to_db`` batches without changing them."""
from __future__ import annotations

import threading
import time
from collections import deque

from core import cpp_integration
from core.models import DiscordEventLog
from dashboard.models import Channel

HISTORY_S = 180  # seconds of history the charts show


class FlushMeter:
    """Wraps a flush callback: records when each batch finished, its size and how long the
    callback (the database write) took. Thread-safe: worker threads append under ``_lock``."""

    def __init__(self, keep: int = 4096):
        self._lock = threading.Lock()
        self._batches: deque[tuple[float, int, float]] = deque(maxlen=keep)  # (end, rows, ms)
        self.batches = 0
        self.rows = 0

    def wrap(self, callback):
        def timed(events):
            started = time.perf_counter()
            callback(events)
            ms = (time.perf_counter() - started) * 1000.0
            with self._lock:
                self._batches.append((time.time(), len(events), ms))
                self.batches += 1
                self.rows += len(events)

        timed.__wrapped__ = callback
        return timed

    def recent_ms(self, window_s: float = 10.0) -> list[float]:
        cutoff = time.time() - window_s
        with self._lock:
            return [ms for end, _, ms in self._batches if end >= cutoff]


def _percentile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Sampler:
    """Once a second: counters, stats and the database's row count, into ring buffers.
    Everything it publishes is replaced whole under ``_lock`` (readers get a consistent copy)."""

    def __init__(self, meter: FlushMeter | None = None, interval: float = 1.0):
        self.meter = meter or FlushMeter()
        self.interval = interval
        self.started = time.time()
        self._lock = threading.Lock()
        self._series: deque[dict] = deque(maxlen=HISTORY_S)
        self._current: dict = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dashboard-sampler", daemon=True)
        self._names: dict[str, str] = {}
        self.awards = 0  # points awards made by the simulated bot (it increments this)

    def start(self) -> "Sampler":
        self._sample(first=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self):
        from django.db import close_old_connections

        while not self._stop.wait(self.interval):
            try:
                self._sample()
            finally:
                close_old_connections()

    def channel_name(self, channel_id: str) -> str:
        if channel_id not in self._names:
            self._names = dict(Channel.objects.values_list("channel_id", "name"))
        return self._names.get(channel_id, channel_id)

    def _sample(self, first=False):
        processor, leaderboard = cpp_integration.processor, cpp_integration.leaderboard
        now = time.time()
        processed = processor.total_events_processed()
        dropped = processor.events_dropped()
        rows = DiscordEventLog.objects.count()
        previous = self._series[-1] if self._series else None
        rate = 0.0
        if previous is not None and now > previous["t"]:
            rate = (processed - previous["processed"]) / (now - previous["t"])
        latencies = self.meter.recent_ms()
        point = {
            "t": now, "processed": processed, "dropped": dropped, "rows": rows,
            "events_per_s": round(rate, 1),
            "flush_ms_p50": _percentile(latencies, 0.5), "flush_ms_max": max(latencies) if latencies else None,
            "unique_users": processor.get_unique_users_last_hour(),
        }
        current = {
            **point,
            "drop_rate": dropped / max(processed + dropped, 1),
            "pending": getattr(processor, "pending_events", lambda: processed - self.meter.rows)(),
            "batches": self.meter.batches,
            "rows_this_run": self.meter.rows,
            "ranked_users": leaderboard.size(),
            "awards": self.awards,
            "uptime_s": round(now - self.started, 1),
            "top_channels": [
                {"channel_id": cid, "name": self.channel_name(cid), "count": count}
                for cid, count in processor.get_top_channels(8)
            ],
        }
        with self._lock:
            if not first:
                self._series.append(point)
            else:
                self._series.append({**point, "events_per_s": 0.0})
            self._current = current

    def snapshot(self) -> dict:
        with self._lock:
            series = list(self._series)
            current = dict(self._current)
        return {
            "current": current,
            "series": {key: [p[key] for p in series] for key in
                       ("t", "events_per_s", "rows", "flush_ms_p50", "unique_users", "processed")},
        }


_sampler: Sampler | None = None
_sampler_lock = threading.Lock()


def install(sampler: Sampler) -> Sampler:
    global _sampler
    with _sampler_lock:
        _sampler = sampler
    return sampler


def sampler() -> Sampler:
    """The running sampler; one is started on first use (plain ``manage.py runserver``)."""
    global _sampler
    with _sampler_lock:
        if _sampler is None:
            _sampler = Sampler().start()
        return _sampler


def snapshot() -> dict:
    return sampler().snapshot()
