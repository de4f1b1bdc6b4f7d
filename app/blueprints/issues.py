"""The issue dashboard: K8sGPT findings in the user's namespaces."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, request
from flask_login import login_required

from app.findings import filter_findings
from app.result_store import findings_for, pending_report
from app.web.current import current_access
from app.web.htmx import render

bp = Blueprint("issues", __name__)

PAGE_SIZE = 50
REGION_ID = "issues-region"


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


@bp.get("/")
@login_required
def index():
    """Show the findings in the user's namespaces, filtered by namespace, kind and text."""
    access = current_access()
    findings, snapshot = findings_for(access) if access.has_any else ([], None)
    filters = {key: request.args.get(key, "").strip() for key in ("ns", "kind", "q")}
    matching = filter_findings(findings, namespace=filters["ns"], kind=filters["kind"],
                               text=filters["q"])
    pages = max((len(matching) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(_page_number(), pages)
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
    )
    block = "issues_region" if request.headers.get("HX-Target") == REGION_ID else None
    response = render("issues/index.html", block=block, **context)
    response.vary.add("HX-Target")
    return response
