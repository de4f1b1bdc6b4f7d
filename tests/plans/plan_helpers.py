"""Helpers for the plans tests: the lab world's planted values, Generate, read the SSE stream,
look at runs in the database."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.extensions import db
from app.models import PlanRun

LABEL = {"codex-test": "plans"}
PLANTED = "pl4nted-db-pass-9c2e7b"  # the Secret's value: must never reach a prompt or a page
PLANTED_TOKEN = "tok3n-literal-5d81aa"  # a literal env value under a secret-looking name
ALL_KINDS = {"pods", "events", "deployments", "replicasets", "configmaps", "secrets"}


@dataclass
class Event:
    name: str
    data: str


def parse_events(text):
    """Split an SSE body into events (comments skipped)."""
    events = []
    for block in text.split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
            elif line.startswith("data:"):
                data.append(line[5:])
        if data or name != "message":
            events.append(Event(name, "\n".join(data)))
    return events


def generate(client, result, mode="remediation", context="", htmx=True):
    """POST Generate (with a CSRF token) and return the response."""
    return client.submit("/plans/runs", {"result": result, "mode": mode, "context": context}, htmx=htmx)


def stream_url(response):
    match = re.search(r'sse-connect="([^"]+)"', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return match.group(1)


def run_id_of(url):
    return int(re.search(r"/plans/runs/(\d+)", url).group(1))


def read_stream(client, url):
    """Read a whole SSE stream; return its events."""
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    return parse_events(response.get_data(as_text=True))


def generate_and_stream(client, result, mode="remediation", context=""):
    """Generate a plan and read its stream to the end: (run id, events)."""
    response = generate(client, result, mode, context)
    assert response.status_code == 200, response.get_data(as_text=True)
    url = stream_url(response)
    return run_id_of(url), read_stream(client, url)


def get_run(app, run_id):
    with app.app_context():
        run = db.session.get(PlanRun, run_id)
        db.session.expunge(run)
        return run


def latest_run(app):
    with app.app_context():
        run = db.session.scalar(db.select(PlanRun).order_by(PlanRun.id.desc()).limit(1))
        if run is not None:
            db.session.expunge(run)
        return run


def in_other_thread(fn):
    """Run fn in a fresh thread, like a second browser request while a stream is open.

    The test client would otherwise share the open stream's application context (and its
    database session and logged-in user) with the second request.
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()
