"""The event path a Python user would write instead: ``queue.SimpleQueue`` + one worker thread
that builds the same list of dicts and calls the callback every ``batch_size`` events or
``flush_interval_ms`` after a batch's first event, whichever comes first. ``push_event`` never
refuses (the queue is unbounded); ``flush_now`` returns once everything pushed before it has
been delivered. Same constructor and calls as ``EventStreamProcessor``."""
from __future__ import annotations

import queue
import threading
import time

_STOP = object()


class PyPipeline:
    def __init__(self, buffer_size, num_threads, batch_size, flush_interval_ms):
        self.batch_size = batch_size
        self.interval = flush_interval_ms / 1000.0
        self.callback = None
        self.q = queue.SimpleQueue()
        self.push_event = self._push  # a bound attribute: one call, as on ours
        self.thread = threading.Thread(target=self._work, daemon=True)
        self.thread.start()

    def _push(self, event_type, user_id, channel_id, timestamp):
        self.q.put((event_type, user_id, channel_id, timestamp))
        return True

    def set_flush_callback(self, callback):
        self.callback = callback

    def _deliver(self, batch):
        events = [{"type": t, "user_id": u, "channel_id": c, "timestamp": ts} for t, u, c, ts in batch]
        if self.callback is not None:
            self.callback(events)

    def _work(self):
        get, batch, deadline = self.q.get, [], None
        while True:
            try:
                item = get(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self._deliver(batch)
                batch, deadline = [], None
                continue
            if type(item) is tuple:
                if not batch:
                    deadline = time.monotonic() + self.interval
                batch.append(item)
                if len(batch) >= self.batch_size:
                    self._deliver(batch)
                    batch, deadline = [], None
                continue
            if batch:
                self._deliver(batch)
                batch, deadline = [], None
            if item is _STOP:
                return
            item.set()  # a flush request: everything before it is delivered

    def flush_now(self):
        done = threading.Event()
        self.q.put(done)
        done.wait()

    def close(self):
        self.q.put(_STOP)
        self.thread.join()
