"""What the replicas share about plan jobs: the queue and its leases, each run's event stream, stop
signals. Two implementations of one interface, chosen by CODEX_REDIS_URL:

- `LocalBus`: in this process (the embedded default, one gunicorn process with threads);
- `RedisBus`: on Redis, so that any replica may run a job, follow it, or stop it.

A run's events are appended by the worker that runs it and read by any number of followers (SSE
streams, in any replica), each from where it left off: an event id is opaque to callers, ordered, and
what a browser sends back as Last-Event-ID. `text` events carry the next piece of the plan, the one
`end` event its final status (the row in the database is the record; the stream is for following).

The queue is a plain list; a worker that takes a run holds its lease (renewed while it works). A run
that is neither queued nor leased while the database says it is generating was lost with its worker:
`app.plans.worker` reaps it. Flask-free.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from dataclasses import dataclass

import redis

TEXT, END, RESET = "text", "end", "reset"  # RESET: a lost run is written again, from the start
KEEP_SECONDS = 3600  # a finished run's events stay followable this long (then the database replays it)


@dataclass(frozen=True)
class Event:
    id: str
    kind: str  # TEXT or END
    data: str


class PlanBus:
    """The interface both buses implement (see the module docstring)."""

    shared = False  # does the queue outlive this process (and reach the other replicas)?

    def enqueue(self, run_id: int) -> None: ...
    def take(self, worker: str, timeout: float) -> int | None: ...
    def renew(self, run_id: int, worker: str, ttl: float) -> bool: ...
    def release(self, run_id: int, worker: str) -> None: ...
    def is_queued_or_leased(self, run_id: int) -> bool: ...
    def may_reap(self, run_id: int) -> bool: ...
    def append(self, run_id: int, kind: str, data: str) -> str: ...
    def events(self, run_id: int, after: str | None, block: float) -> list[Event]: ...
    def stop(self, run_id: int) -> None: ...
    def stopped(self, run_id: int) -> bool: ...
    def claim_once(self, run_id: int, what: str) -> bool: ...
    def valid_id(self, event_id: str | None) -> str | None: ...
    def close(self) -> None: ...


class LocalBus(PlanBus):
    """One process's queue, leases, event lists and stop flags, under one condition variable."""

    def __init__(self, lease_seconds: float):
        self.lease_seconds = lease_seconds
        self._changed = threading.Condition()
        self._queue: deque[int] = deque()
        self._leases: dict[int, tuple[str, float]] = {}  # run id -> (worker, monotonic expiry)
        self._events: dict[int, list[Event]] = {}
        self._ended: dict[int, float] = {}  # run id -> monotonic time of its END event
        self._stops: set[int] = set()
        self._claims: set[tuple[int, str]] = set()
        self._known: set[int] = set()  # runs queued here: the only ones this process may judge lost

    def enqueue(self, run_id):
        with self._changed:
            self._queue.append(run_id)
            self._known.add(run_id)
            self._changed.notify_all()

    def take(self, worker, timeout):
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._queue:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)
            run_id = self._queue.popleft()
            holder, expiry = self._leases.get(run_id, (worker, 0.0))
            if holder != worker and expiry > time.monotonic():
                return None  # queued twice: another worker writes it, and keeps its lease
            self._leases[run_id] = (worker, time.monotonic() + self.lease_seconds)
            return run_id

    def renew(self, run_id, worker, ttl):
        with self._changed:
            holder, expiry = self._leases.get(run_id, (worker, 0.0))
            if holder != worker and expiry > time.monotonic():
                return False
            self._leases[run_id] = (worker, time.monotonic() + ttl)
            return True

    def release(self, run_id, worker):
        with self._changed:
            if self._leases.get(run_id, (worker, 0.0))[0] == worker:
                self._leases.pop(run_id, None)
                self._known.discard(run_id)

    def is_queued_or_leased(self, run_id):
        with self._changed:
            return run_id in self._queue or self._leases.get(run_id, ("", 0.0))[1] > time.monotonic()

    def may_reap(self, run_id):
        # Several processes without Redis share a database but not this bus: another process's run
        # is neither queued nor leased here, and must not look lost.
        with self._changed:
            return run_id in self._known

    def append(self, run_id, kind, data):
        with self._changed:
            self._forget_old()
            events = self._events.setdefault(run_id, [])
            event = Event(str(len(events) + 1), kind, data)
            events.append(event)
            if kind == END:
                self._ended[run_id] = time.monotonic()
            self._changed.notify_all()
            return event.id

    def events(self, run_id, after, block):
        start = int(after) if after and after.isdigit() else 0
        deadline = time.monotonic() + block
        with self._changed:
            while True:
                events = self._events.get(run_id, [])[start:]
                left = deadline - time.monotonic()
                if events or left <= 0:
                    return list(events)
                self._changed.wait(left)

    def stop(self, run_id):
        with self._changed:
            self._stops.add(run_id)

    def stopped(self, run_id):
        with self._changed:
            return run_id in self._stops

    def claim_once(self, run_id, what):
        with self._changed:
            if (run_id, what) in self._claims:
                return False
            self._claims.add((run_id, what))
            return True

    def valid_id(self, event_id):
        return event_id if event_id and event_id.isdigit() and len(event_id) < 12 else None

    def _forget_old(self):
        cutoff = time.monotonic() - KEEP_SECONDS
        for run_id in [r for r, at in self._ended.items() if at < cutoff]:
            self._events.pop(run_id, None)
            self._ended.pop(run_id, None)
            self._stops.discard(run_id)

    def close(self):
        pass


_STREAM_ID = re.compile(r"\d{1,16}-\d{1,8}")
# A lease is renewed or released only by the worker holding it: a worker that stalled past its lease
# while the run was queued again must not take it back from the new one. A missing key (expired, or
# Redis restarted without its data) is the holder's to set again.
_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisBus(PlanBus):
    """The same on Redis: a list for the queue, a key with a TTL per lease and per stop, a stream
    (XADD/XREAD) of events per run, expired KEEP_SECONDS after its end."""

    shared = True

    def __init__(self, url: str, lease_seconds: float, prefix: str = "codex:plans:", timeout: float = 5):
        self.lease_seconds = lease_seconds
        self.prefix = prefix
        # Blocking reads wait up to `block` seconds on top of the socket timeout.
        self.redis = redis.Redis.from_url(url, socket_timeout=timeout + 10, socket_connect_timeout=timeout,
                                          health_check_interval=30, decode_responses=True)
        self._renew = self.redis.register_script(_RENEW)
        self._release = self.redis.register_script(_RELEASE)

    def _key(self, *parts) -> str:
        return self.prefix + ":".join(str(p) for p in parts)

    def enqueue(self, run_id):
        self.redis.lpush(self._key("queue"), run_id)

    def take(self, worker, timeout):
        taken = self.redis.brpop([self._key("queue")], timeout=max(0.01, timeout))  # a double since Redis 6
        if taken is None:
            return None
        run_id = int(taken[1])
        # NX: a run queued twice is another worker's while its lease lives; this entry is dropped.
        if not self.redis.set(self._key("lease", run_id), worker, px=int(self.lease_seconds * 1000), nx=True):
            return None
        return run_id

    def renew(self, run_id, worker, ttl):
        return bool(self._renew(keys=[self._key("lease", run_id)], args=[worker, int(ttl * 1000)]))

    def release(self, run_id, worker):
        self._release(keys=[self._key("lease", run_id)], args=[worker])

    def may_reap(self, run_id):
        return True  # every replica sees the same queue and leases

    def is_queued_or_leased(self, run_id):
        pipe = self.redis.pipeline()
        pipe.exists(self._key("lease", run_id))
        pipe.lpos(self._key("queue"), run_id)
        leased, position = pipe.execute()
        return bool(leased) or position is not None

    def append(self, run_id, kind, data):
        key = self._key("events", run_id)
        pipe = self.redis.pipeline()
        pipe.xadd(key, {"kind": kind, "data": data})
        pipe.expire(key, KEEP_SECONDS)  # a run nobody ends (a lost worker) is forgotten too
        event_id, _ = pipe.execute()
        return event_id

    def events(self, run_id, after, block):
        key = self._key("events", run_id)
        answer = self.redis.xread({key: after or "0-0"}, block=max(1, int(block * 1000)) if block else None)
        if not answer:
            return []
        return [Event(event_id, fields.get("kind", TEXT), fields.get("data", "")) for event_id, fields in answer[0][1]]

    def stop(self, run_id):
        self.redis.set(self._key("stop", run_id), 1, ex=KEEP_SECONDS)

    def stopped(self, run_id):
        return bool(self.redis.exists(self._key("stop", run_id)))

    def claim_once(self, run_id, what):
        return bool(self.redis.set(self._key("claim", what, run_id), 1, nx=True, ex=KEEP_SECONDS))

    def valid_id(self, event_id):
        return event_id if event_id and _STREAM_ID.fullmatch(event_id) else None

    def close(self):
        self.redis.close()


def bus_for(config) -> PlanBus:
    """The bus CODEX_REDIS_URL asks for: Redis when set, this process otherwise."""
    lease = float(config["CODEX_PLAN_LEASE_SECONDS"])
    url = config["CODEX_REDIS_URL"]
    return RedisBus(url, lease) if url else LocalBus(lease)
