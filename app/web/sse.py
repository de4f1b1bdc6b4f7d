"""Server-sent events as the browser's EventSource reads them (plan streams, the dashboard's pushes)."""

from __future__ import annotations


def sse_event(event, data="", event_id=None):
    """One SSE event; every line of data gets its own ``data:`` field.

    A browser ends an SSE line at CR, LF or CRLF, so a bare CR in model output would otherwise
    start a field of its own (``\revent: done``): every line break is normalized to LF first.
    """
    text = (data or "").replace("\r\n", "\n").replace("\r", "\n")
    lines = "".join(f"data: {line}\n" for line in text.split("\n"))
    id_line = f"id: {event_id}\n" if event_id else ""
    return f"{id_line}event: {event}\n{lines}\n"
