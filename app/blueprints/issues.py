"""The issue dashboard: K8sGPT findings in the user's namespaces."""

from __future__ import annotations

from datetime import datetime, timezone

import hashlib
import time

from flask import Blueprint, Response, current_app, request, url_for
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block

from app.access import access_for
from app.extensions import db
from app.findings import filter_findings
from app.models import User
from app.result_store import findings_for, pending_report, result_store
from app.web.current import ENVIRON_KEY as ACCESS_KEY, current_access
from app.web.htmx import render
from app.web.sse import DRAINING, KEEPALIVE_SECONDS, StreamSlots, sse_event, sse_response

bp = Blueprint("issues", __name__)

PAGE_SIZE = 50
REGION_ID = "issues-region"
STREAM_SECONDS = 300  # a dashboard's push stream, before the browser reconnects
COALESCE_SECONDS = 0.3
ACCESS_CHECK_SECONDS = 5
PUSH_SLOTS = StreamSlots("CODEX_PUSH_STREAMS")


def _since(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, timezone.utc) if timestamp else None


def _pending_report(access, findings, snapshot) -> dict | None:
    """Return what K8sGPT has not reported on yet for an empty dashboard, with its times."""
    if findings or snapshot is None or snapshot.failing_since is not None:
        return None
    pending = pending_report(snapshot, access.namespaces())
    if pending is None:
        return None
    return {"namespace": pending.namespace, "due": _since(pending.due),
            "since": _since(pending.since), "within": round(pending.due - pending.since)}


def _page_number() -> int:
    page = request.args.get("page", "1")
    return max(int(page), 1) if page.isdigit() else 1


def _region(access) -> dict:
    """What the dashboard shows `access` for this request's filters and page."""
    findings, snapshot = findings_for(access) if access.has_any else ([], None)
    filters = {key: request.args.get(key, "").strip() for key in ("ns", "kind", "q")}
    matching = filter_findings(findings, namespace=filters["ns"], kind=filters["kind"],
                               text=filters["q"])
    pages = max((len(matching) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(_page_number(), pages)
    args = {key: value for key, value in request.args.items() if key in ("ns", "kind", "q", "page")}
    context = dict(
        has_grants=access.has_any,
        findings=matching[(page - 1) * PAGE_SIZE:page * PAGE_SIZE],
        total=len(findings),
        matching=len(matching),
        page=page,
        pages=pages,
        filters=filters,
        namespaces=sorted({f.namespace for f in findings if f.namespace}
                          | set(access.granted_namespaces())),
        kinds=sorted({f.kind for f in findings if f.kind}),
        failing_since=_since(snapshot.failing_since) if snapshot else None,
        fetched_at=_since(snapshot.fetched_at) if snapshot else None,
        pending=_pending_report(access, findings, snapshot),
        region_id=REGION_ID,
        region_url=url_for("issues.index", **args),
    )
    context["digest"] = _digest(context)
    context["stream_url"] = (url_for("issues.stream", **args, v=context["digest"])
                             if current_app.config["CODEX_RESULTS_WATCH"] else None)
    return context


def _digest(region: dict) -> str:
    """What the region shows, in 16 hex digits: the same on every replica for the same rows, so a
    push is sent only when the user's rows (or banner) change."""
    shown = [(f.result_name, f.kind, f.namespace, f.name, f.display_errors, f.details, f.parent)
             for f in region["findings"]]
    state = (shown, region["total"], region["matching"], region["page"], region["pages"], region["namespaces"],
             region["kinds"], region["failing_since"], region["fetched_at"] if region["failing_since"] else None,
             region["pending"])
    return hashlib.sha256(repr(state).encode()).hexdigest()[:16]


@bp.get("/")
@login_required
def index():
    """Show the findings in the user's namespaces, filtered by namespace, kind and text."""
    block = "issues_region" if request.headers.get("HX-Target") == REGION_ID else None
    response = render("issues/index.html", block=block, **_region(current_access()))
    response.vary.add("HX-Target")
    return response


@bp.get("/issues/stream")
@login_required
def stream():
    """Push the dashboard's region to an open page when what it shows changes: after the Result
    watch changed the findings, and when the user's grants change (read again every
    ACCESS_CHECK_SECONDS, so a revoke empties an open page within seconds). Each push is one
    ``region`` event rendered for the user's grants at that moment, sent only when its digest differs
    from the one the page shows (`v`). Ends after STREAM_SECONDS (the browser reconnects, with its
    cookie, so an expired session ends it) or once the user may see nothing. Each open stream holds a
    server thread: beyond CODEX_PUSH_STREAMS per process the answer is 204 (no retry) and the page
    keeps its periodic refresh."""
    store, user_id = result_store(), current_user.id
    shown = request.args.get("v", "")
    app = current_app._get_current_object()
    # 204: no push without the watch (the page polls), nor beyond the cap; EventSource does not retry it.
    if not app.config["CODEX_RESULTS_WATCH"] or not PUSH_SLOTS.acquire(app):
        return Response(status=204)
    db.session.close()

    def events():
        nonlocal shown
        seen, ends = store.version, time.monotonic() + STREAM_SECONDS
        last_sent = time.monotonic()
        yield ": following\n\n"
        while time.monotonic() < ends and not DRAINING.is_set():
            version = store.wait_for_change(seen, ACCESS_CHECK_SECONDS)
            if version != seen:
                time.sleep(COALESCE_SECONDS)  # K8sGPT writes its Results in a burst: one look for it
                seen = store.version
            access = access_for(db.session.get(User, user_id))
            db.session.close()
            request.environ[ACCESS_KEY] = access  # the templates' links follow the grants as they are now
            region = _region(access)
            if region["digest"] != shown:
                shown = region["digest"]
                html = render_block("issues/index.html", "issues_region", **region)
                last_sent = time.monotonic()
                yield sse_event("region", html)
                if not access.has_any:  # disabled, deleted or every grant revoked: nothing more to push
                    return
            elif time.monotonic() - last_sent >= KEEPALIVE_SECONDS:
                last_sent = time.monotonic()
                yield ": idle\n\n"

    response = sse_response(events())
    response.call_on_close(lambda: PUSH_SLOTS.release(app))  # however the stream ends, started or not
    return response
