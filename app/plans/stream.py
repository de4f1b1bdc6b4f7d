"""The server-sent event stream of one run: the model's text rendered as it arrives.

The generator runs after the response headers are sent, inside ``stream_with_context``; it never
touches the Flask session or ``current_user`` (everything it needs is captured before), and it
writes only the run's own row. Every few chunks the whole accumulated text is rendered again
through ``app.plans.core.markdown`` and sent as one ``plan`` event (simple, and a half-written
Markdown construct can never leave unsafe HTML behind). Those renders are ``streaming``: the command
still being written gets its badge only once complete. The last ``plan`` event renders the final text
(every command badged) and the last event is always ``done``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app, render_template

from app.models import utcnow
from app.plans.core.commands import extract_commands
from app.plans.core.markdown import render_plan
from app.plans.core.model_client import ModelError, StreamDone, TextDelta
from app.plans.core.vocabulary import RunStatus
from app.plans import runs

RENDER_EVERY_CHUNKS = 24
RENDER_EVERY_SECONDS = 0.3
STOP_POLL_SECONDS = 0.5
DONE_TEMPLATE = "plans/_done.html"


def sse_event(event, data=""):
    """One SSE event; every line of data gets its own ``data:`` field.

    A browser ends an SSE line at CR, LF or CRLF, so a bare CR in model output would otherwise
    start a field of its own (``\revent: done``): every line break is normalized to LF first.
    """
    text = (data or "").replace("\r\n", "\n").replace("\r", "\n")
    lines = "".join(f"data: {line}\n" for line in text.split("\n"))
    return f"event: {event}\n{lines}\n"


@dataclass
class StreamJob:
    """What the generator needs, captured in the view before streaming starts."""

    run_id: int
    messages: list
    allowed_namespaces: tuple | None  # None: administrator, no namespace is flagged


def _done(run_id, status, message, text):
    # A finished plan with kubectl steps offers to act on them (the run view, loaded in its place).
    actionable = status == RunStatus.DONE and bool(extract_commands(text or ""))
    return sse_event("done", render_template(DONE_TEMPLATE, run_id=run_id, status=status,
                                             message=message, text=text, actionable=actionable))


def replay(run, allowed):
    """Events for a run that is no longer streaming (a reconnect or a second window)."""
    yield sse_event("plan", render_plan(run.output_text, allowed, streaming=run.status == RunStatus.STREAMING))
    message = run.error_message or ("This plan is already streaming in another window."
                                    if run.status == RunStatus.STREAMING else "")
    yield _done(run.id, run.status, message, run.output_text)


def generate(job, model_client):
    """Yield SSE events for one run while recording its progress; see the module docstring."""
    stop_event = runs.register_stream(job.run_id)
    text, status, error, done = "", RunStatus.STREAMING, None, None
    first_token_at = None
    pending, last_render, last_poll = 0, 0.0, time.monotonic()
    plan = model_client.stream_plan(job.messages)
    try:
        yield ": stream open\n\n"
        for event in plan:
            if isinstance(event, StreamDone):
                done = event
                continue
            if isinstance(event, TextDelta):
                text += event.text
                pending += 1
                first_token_at = first_token_at or utcnow()
            now = time.monotonic()
            if pending and (last_render == 0.0 or pending >= RENDER_EVERY_CHUNKS
                            or now - last_render >= RENDER_EVERY_SECONDS):
                yield sse_event("plan", render_plan(text, job.allowed_namespaces, streaming=True))
                pending, last_render = 0, now
            if now - last_poll >= STOP_POLL_SECONDS:  # Stop may have been posted to another worker
                last_poll = now
                if runs.stop_requested_in_db(job.run_id):
                    stop_event.set()
            if stop_event.is_set():
                status, error = RunStatus.STOPPED, "Stopped by the user."
                break
        else:
            status = RunStatus.DONE
    except ModelError as exc:
        status, error = RunStatus.FAILED, exc.user_message
    except Exception:  # noqa: BLE001 - a bug must still end the run and the stream cleanly
        current_app.logger.exception("plan run %s failed", job.run_id)
        status, error = RunStatus.FAILED, "The plan failed because of an unexpected error. It has been logged."
    except GeneratorExit:
        plan.close()
        runs.finish_run(job.run_id, RunStatus.STOPPED, text, "The browser closed the stream.",
                        first_token_at=first_token_at)
        raise
    finally:
        runs.unregister_stream(job.run_id)
    plan.close()
    runs.finish_run(job.run_id, status, text, error, usage=done.usage if done else None,
                    model=done.model if done else None, first_token_at=first_token_at)
    yield sse_event("plan", render_plan(text, job.allowed_namespaces))
    yield _done(job.run_id, status, error or "", text)
