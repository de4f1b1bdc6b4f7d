"""The server-sent event stream of one run: it follows the run's events on the bus (app.plans.bus),
from any replica, while a worker writes the plan (app.plans.worker).

The generator runs after the response headers are sent, inside ``stream_with_context``; it never
touches the Flask session or ``current_user`` (everything it needs is captured before) and writes
nothing. Each pass takes every event that arrived and renders the whole text so far again through
``app.plans.core.markdown`` as one ``plan`` event (a half-written Markdown construct can never leave
unsafe HTML behind), whose SSE id is the last event it includes: a browser that reconnects sends it
back as Last-Event-ID and receives exactly what it missed. Those renders are ``streaming``: the
command still being written gets its badge only once complete. The last ``plan`` event renders the
stored final text (every command badged) and the last event is always ``done``. Closing the stream
ends nothing but the following: the run goes on.
"""

from __future__ import annotations

import json
import time

from flask import render_template

from app.extensions import db
from app.models import PlanRun
from app.plans import runs
from app.plans.bus import END, RESET, TEXT, PlanBus
from app.plans.core.commands import extract_commands
from app.plans.core.markdown import render_plan
from app.plans.core.vocabulary import RunStatus
from app.web.sse import DRAINING, KEEPALIVE_SECONDS, sse_event

FOLLOW_BLOCK_SECONDS = 0.3  # how long one pass waits for events
RENDER_SECONDS = 0.3  # a follower renders the text at most this often
DB_CHECK_SECONDS = 1.0  # with no events, how often the stored run is looked at
DONE_TEMPLATE = "plans/_done.html"
REVOKED = "Access to the namespace was revoked while the plan was generating."


def _done(run_id, status, message, text):
    # A finished plan with kubectl steps offers to act on them (the run view, loaded in its place).
    actionable = status == RunStatus.DONE and bool(extract_commands(text or ""))
    return sse_event("done", render_template(DONE_TEMPLATE, run_id=run_id, status=status,
                                             message=message, text=text, actionable=actionable))


def replay(run, allowed, event_id=None):
    """Events for a run as stored (finished before its events could be followed, or they expired)."""
    yield sse_event("plan", render_plan(run.output_text, allowed), event_id)
    yield _done(run.id, run.status, run.error_message or "", run.output_text)


def stored_run(run_id):
    """The run as stored now, read and released at once (a follower holds no connection)."""
    run = db.session.get(PlanRun, run_id, populate_existing=True)  # written elsewhere since it was loaded
    db.session.expunge_all()
    db.session.close()
    return run


def _resume(bus: PlanBus, run_id: int, last_event_id: str | None) -> tuple[str, str | None]:
    """(the text up to Last-Event-ID, that id) -- ("", None) when it is not one of the run's events."""
    wanted = bus.valid_id(last_event_id)
    if wanted is None:
        return "", None
    text = ""
    for event in bus.events(run_id, None, 0):
        text = _apply(text, event)
        if event.id == wanted:
            return text, wanted
    return "", None


def _apply(text: str, event) -> str:
    """The text after one event: a piece appended, or a new attempt from the start."""
    if event.kind == TEXT:
        return text + event.data
    if event.kind == RESET:
        return ""
    return text


def revoked(run_id, bus: PlanBus, allowed):
    """The owner may no longer read the run (a grant went while it was generating): stop its worker,
    keep none of its text, and say so."""
    bus.stop(run_id)
    runs.finish_run(run_id, RunStatus.FAILED, "", REVOKED)
    yield sse_event("plan", render_plan("", allowed))
    yield _done(run_id, RunStatus.FAILED, REVOKED, "")


def follow(run_id, bus: PlanBus, allowed, last_event_id=None, readable=lambda run: True):
    """Yield SSE events for one run as its worker writes it; see the module docstring. Every
    DB_CHECK_SECONDS the stored run is read and `readable(run)` asked again (grants read anew)."""
    yield ": following\n\n"
    text, after = _resume(bus, run_id, last_event_id)
    heard = after is not None  # events from the bus (else, maybe, only the saved text)
    dirty, last_render, last_check, last_sent = False, 0.0, 0.0, time.monotonic()
    while not DRAINING.is_set():  # else the browser reconnects, from `after`, to another replica
        try:
            events = bus.events(run_id, after, FOLLOW_BLOCK_SECONDS)
        except Exception:  # noqa: BLE001 - Redis away: follow the stored run until it is back
            events = []
            time.sleep(FOLLOW_BLOCK_SECONDS)
        ended = None
        for event in events:
            after, heard, dirty = event.id, True, True
            text = _apply(text, event)
            if event.kind == END:
                ended = json.loads(event.data or "{}")
        now = time.monotonic()
        if ended is None and now - last_check >= DB_CHECK_SECONDS:
            last_check = now
            run = stored_run(run_id)
            if run is not None and not readable(run):
                yield from revoked(run_id, bus, allowed)
                return
            if run is None or run.status != RunStatus.STREAMING:
                if not events:  # ended without an end event to follow (or it expired)
                    if run is not None:
                        yield from replay(run, allowed, after)
                    return
            elif not heard and run.output_text and run.output_text != text:
                # Written by a process whose bus this one cannot read (in-process buses, several
                # processes): follow the text it saves every second instead.
                text, dirty = run.output_text, True
        if ended is not None:
            run = stored_run(run_id)
            final = run.output_text if run is not None else text
            yield sse_event("plan", render_plan(final, allowed), after)
            status = run.status if run is not None else ended.get("status", RunStatus.FAILED)
            message = (run.error_message if run is not None else ended.get("message")) or ""
            yield _done(run_id, status, message, final)
            return
        if dirty and now - last_render >= RENDER_SECONDS:  # one render for every piece since the last
            yield sse_event("plan", render_plan(text, allowed, streaming=True), after)
            dirty, last_render, last_sent = False, now, now
        elif now - last_sent >= KEEPALIVE_SECONDS:
            last_sent = now
            yield ": still generating\n\n"
