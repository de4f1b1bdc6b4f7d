"""Server-sent events as the browser's EventSource reads them (plan streams, the dashboard's pushes)."""

from __future__ import annotations

import threading

from flask import Response, stream_with_context

KEEPALIVE_SECONDS = 15.0  # a comment line keeps proxies from closing an idle stream
# Set when this process is being stopped (gunicorn.conf.py): open streams end, and their browsers'
# EventSource reconnects -- through the load balancer, to a replica that stays -- with Last-Event-ID.
DRAINING = threading.Event()

def sse_event(event, data="", event_id=None):
    """One SSE event; every line of data gets its own ``data:`` field.

    A browser ends an SSE line at CR, LF or CRLF, so a bare CR in model output would otherwise
    start a field of its own (``\revent: done``): every line break is normalized to LF first.
    """
    text = (data or "").replace("\r\n", "\n").replace("\r", "\n")
    lines = "".join(f"data: {line}\n" for line in text.split("\n"))
    id_line = f"id: {event_id}\n" if event_id else ""
    return f"{id_line}event: {event}\n{lines}\n"


def sse_response(events) -> Response:
    """A streamed text/event-stream response that no cache or proxy buffers."""
    response = Response(stream_with_context(events), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass events through at once
    return response


class StreamSlots:
    """A per-process cap on one kind of open stream (each holds a server thread), sized by a setting."""

    def __init__(self, setting: str):
        self.setting = setting
        self._lock = threading.Lock()
        self._open: dict[int, int] = {}  # per app (tests build many)

    def acquire(self, app) -> bool:
        with self._lock:
            open_now = self._open.get(id(app), 0)
            if open_now >= int(app.config[self.setting]):
                return False
            self._open[id(app)] = open_now + 1
            return True

    def release(self, app) -> None:
        with self._lock:
            self._open[id(app)] = max(self._open.get(id(app), 1) - 1, 0)
