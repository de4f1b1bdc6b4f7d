"""The Result store's list-and-watch (app/result_store.py ResultStore.watch_forever), driven by a
scripted API server: changes applied as they come, resume from the last resourceVersion, a list
again on 410 Gone, an outage marked (the "unreachable since" banner) and retried, and every change
waking the dashboards' streams. The real watch against the lab is in tests/scale_out."""

from __future__ import annotations

import threading
import time

from app.cluster.errors import Gone, Unavailable
from app.result_store import ResultStore


def _result(name, version, text="back-off"):
    return {"metadata": {"name": name, "resourceVersion": str(version)},
            "spec": {"kind": "Pod", "name": f"team-a/{name}", "error": [{"text": text}]}}


class ScriptedServer:
    """list_with_version and watch as the gateway offers them, following a script."""

    def __init__(self):
        self.lists, self.watches = [], []
        self.script = []  # watch answers, in order: a list of events, or an exception to raise
        self.items = [_result("api-0", 1)]

    def list_with_version(self):
        self.lists.append(time.monotonic())
        if self.script and isinstance(self.script[0], Unavailable) and len(self.lists) > 1:
            raise self.script.pop(0)
        return list(self.items), "10"

    def watch(self, version):
        self.watches.append(version)
        if not self.script:
            time.sleep(0.05)
            return iter(())
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return iter(step)


def _names(store):
    return [f.name for f in store.snapshot().findings]


def _wait(what, predicate, timeout=5):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_changes_are_applied_as_they_come_and_wake_the_streams():
    server, stop = ScriptedServer(), threading.Event()
    server.script = [[("ADDED", _result("api-1", 11)), ("MODIFIED", _result("api-0", 12, "OOMKilled")),
                      ("BOOKMARK", {"metadata": {"resourceVersion": "13"}})],
                     [("DELETED", _result("api-1", 14))]]
    store = ResultStore(lambda: [], max_age=60)
    store.watching = True
    woke = []
    waiter = threading.Thread(target=lambda: woke.append(store.wait_for_change(0, 5)))
    waiter.start()
    threading.Thread(target=store.watch_forever, args=(server.list_with_version, server.watch, stop),
                     daemon=True).start()
    waiter.join(6)
    assert woke and woke[0] >= 1  # the first list woke a waiting stream
    _wait("api-1 added then deleted", lambda: server.watches[:3] == ["10", "13", "14"])
    stop.set()
    assert _names(store) == ["api-0"]
    assert store.snapshot().findings[0].errors == ("OOMKilled",)
    assert len(server.lists) == 1  # resumed from the last version each time, never listed again


def test_gone_lists_again_and_an_outage_is_marked_and_retried():
    server, stop = ScriptedServer(), threading.Event()
    server.script = [Gone("too old", status=410), Unavailable("connection refused")]
    store = ResultStore(lambda: [], max_age=60)
    store.watching = True
    threading.Thread(target=store.watch_forever, args=(server.list_with_version, server.watch, stop),
                     daemon=True).start()
    _wait("a list after 410 Gone", lambda: len(server.lists) >= 2)
    _wait("the outage marked", lambda: store.snapshot().failing_since is not None)
    assert "connection refused" in store.snapshot().error and _names(store) == ["api-0"]  # last known rows stay
    _wait("listed again after the back-off", lambda: len(server.lists) >= 3, timeout=4)
    _wait("healthy again", lambda: store.snapshot().failing_since is None)
    stop.set()
