"""The plan bus (app/plans/bus.py), both implementations against one contract: the in-process bus of
the embedded default and the Redis bus of several replicas (Debian's redis-server, started by the
session). Two RedisBus objects on one server stand for two replicas."""

from __future__ import annotations

import threading
import time

import pytest

from app.plans.bus import END, TEXT, LocalBus, RedisBus

LEASE = 0.5


@pytest.fixture(params=["local", "redis"])
def buses(request):
    """make() -> a bus; every bus made in one test shares state (one process, or one Redis)."""
    made = []
    if request.param == "local":
        shared = LocalBus(LEASE)

        def make():
            return shared
    else:
        url = request.getfixturevalue("redis_url")

        def make():
            made.append(RedisBus(url, LEASE))
            return made[-1]
    yield make
    for bus in made:
        bus.close()


def test_a_queued_run_is_taken_once_and_leased_until_released(buses):
    a, b = buses(), buses()
    assert a.take("w1", timeout=0.1) is None
    a.enqueue(7)
    assert b.is_queued_or_leased(7)
    assert b.take("w2", timeout=1) == 7
    assert a.take("w1", timeout=0.1) is None  # taken once, by whichever replica asked first
    assert a.is_queued_or_leased(7)
    a.release(7, "w1")  # not its lease: nothing happens
    assert a.is_queued_or_leased(7)
    b.release(7, "w2")
    assert not a.is_queued_or_leased(7)


def test_a_lease_not_renewed_expires(buses):
    bus = buses()
    bus.enqueue(8)
    assert bus.take("w", timeout=1) == 8
    assert bus.renew(8, "w", LEASE * 4)
    time.sleep(LEASE * 2)
    assert bus.is_queued_or_leased(8)  # renewed
    time.sleep(LEASE * 3)
    assert not bus.is_queued_or_leased(8)  # its worker stopped renewing: gone


def test_a_lease_is_renewed_only_by_its_holder(buses):
    """A worker that stalled past its lease, while the run went to another worker, cannot take it back;
    a lease that vanished (expired, or Redis restarted empty) is its holder's to set again."""
    a, b = buses(), buses()
    a.enqueue(16)
    assert a.take("stalled", timeout=1) == 16
    time.sleep(LEASE * 1.5)  # expired
    a.enqueue(16)  # the reaper queued it again; another worker takes it
    assert b.take("fresh", timeout=1) == 16
    assert a.renew(16, "stalled", LEASE) is False
    assert b.renew(16, "fresh", LEASE) is True
    b.release(16, "fresh")
    assert a.renew(16, "stalled", LEASE) is True  # nobody holds it: set again
    assert b.is_queued_or_leased(16)


def test_events_are_read_after_an_id_by_any_number_of_followers(buses):
    writer, first, second = buses(), buses(), buses()
    ids = [writer.append(9, TEXT, "Hello, "), writer.append(9, TEXT, "world"), writer.append(9, END, "{}")]
    assert len(set(ids)) == 3
    for follower in (first, second):
        events = follower.events(9, None, 0)
        assert [(e.id, e.kind, e.data) for e in events] == list(zip(ids, [TEXT, TEXT, END], ["Hello, ", "world", "{}"]))
    after_first = first.events(9, ids[0], 0)
    assert [e.data for e in after_first] == ["world", "{}"]  # exactly what came after, no duplicates
    assert first.events(9, ids[-1], 0.2) == []


def test_a_blocked_follower_wakes_when_the_worker_appends(buses):
    writer, follower = buses(), buses()
    got = []
    reader = threading.Thread(target=lambda: got.extend(follower.events(10, None, 5)))
    started = time.monotonic()
    reader.start()
    time.sleep(0.2)
    writer.append(10, TEXT, "now")
    reader.join(6)
    assert [e.data for e in got] == ["now"] and time.monotonic() - started < 3


def test_stop_reaches_every_replica(buses):
    a, b = buses(), buses()
    assert not b.stopped(11)
    a.stop(11)
    assert b.stopped(11)


def test_only_runs_it_queued_may_be_judged_lost_by_an_in_process_bus(buses):
    a = buses()
    assert a.may_reap(15) is isinstance(a, RedisBus)  # another process's run, as far as a local bus knows
    a.enqueue(15)
    assert a.may_reap(15)


def test_claim_once_is_won_by_one_caller(buses):
    a, b = buses(), buses()
    assert a.claim_once(13, "retry") is True
    assert b.claim_once(13, "retry") is False
    assert b.claim_once(13, "other") is True


def test_only_ids_of_its_own_shape_are_taken_back(buses):
    bus = buses()
    event_id = bus.append(14, TEXT, "x")
    assert bus.valid_id(event_id) == event_id
    for hostile in (None, "", "abc", "1; DROP", "-1", "9" * 40, "0-0\nevent: done"):
        assert bus.valid_id(hostile) is None
