"""The issue dashboard: K8sGPT findings in the user's namespaces."""

from __future__ import annotations

from datetime import datetime, timezone

import time

from flask import Blueprint, Response, current_app, request, stream_with_context, url_for
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block

from app.access import access_for
from app.extensions import db
from app.findings import filter_findings
from app.models import User
from app.result_store import findings_for, pending_report, result_store
from app.web.current import current_access
from app.web.htmx import render
from app.web.sse import sse_event

bp = Blueprint("issues", __name__)

PAGE_SIZE = 50
REGION_ID = "issues-region"
STREAM_SECONDS = 300  # a dashboard's push stream, before the browser reconnects
KEEPALIVE_SECONDS = 15
COALESCE_SECONDS = 0.3
ACCESS_CHECK_SECONDS = 5


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
    return dict(
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
        stream_url=(url_for("issues.stream", **args, v=result_store().version)
                    if current_app.config["CODEX_RESULTS_WATCH"] else None),
    )


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
    """Push the dashboard's region to an open page when it changes: when the Result watch changes
    the findings, and when the user's grants change (read again every ACCESS_CHECK_SECONDS, so a
    revoke empties an open page within seconds). Each push is one ``region`` event rendered for the
    user's grants at that moment. Ends after STREAM_SECONDS (the browser reconnects, with its
    cookie, so an expired session ends it) or once the user may see nothing."""
    store, user_id = result_store(), current_user.id
    shown = request.args.get("v", "")
    seen = int(shown) if shown.isdigit() else store.version  # the version the page shows
    granted = current_access()
    db.session.close()

    def events():
        nonlocal seen, granted
        ends = last_sent = time.monotonic()
        ends += STREAM_SECONDS
        yield ": following\n\n"
        while time.monotonic() < ends:
            version = store.wait_for_change(seen, ACCESS_CHECK_SECONDS)
            access = access_for(db.session.get(User, user_id))
            if version == seen and access == granted:
                db.session.close()
                if time.monotonic() - last_sent >= KEEPALIVE_SECONDS:
                    last_sent = time.monotonic()
                    yield ": idle\n\n"
                continue
            if version != seen:
                time.sleep(COALESCE_SECONDS)  # K8sGPT writes its Results in a burst: one push for it
                seen = store.version
            granted = access
            html = render_block("issues/index.html", "issues_region", **_region(access))
            db.session.close()
            last_sent = time.monotonic()
            yield sse_event("region", html)
            if not access.has_any:  # disabled, deleted or every grant revoked: nothing more to push
                return

    response = Response(stream_with_context(events()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response
