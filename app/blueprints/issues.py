"""The issue dashboard: K8sGPT findings in the user's namespaces."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

from flask import Blueprint, current_app, request, url_for
from flask_login import current_user, login_required

from app.access import grants_for, is_admin, visible_namespaces
from app.cluster.gateway import gateway
from app.findings import (Finding, ResultStore, filter_findings, k8sgpt_set_up_at,
                          namespace_creations, pending_report, visible_findings)
from app.web.htmx import render
from app.kinds import kind_for_api_kind
from app.resources.format import human_age

bp = Blueprint("issues", __name__)

STORE_KEY = "codex_results"
PAGE_SIZE = 50
REGION_ID = "issues-region"
_store_lock = threading.Lock()


def result_store() -> ResultStore:
    """Return this process's Result store, creating it on first use."""
    app = current_app._get_current_object()
    with _store_lock:
        store = app.extensions.get(STORE_KEY)
        if store is None:
            gw = gateway()  # bound now: the background refresh runs outside the app context
            store = ResultStore(gw.list_results,
                                max_age=app.config["CODEX_RESULTS_MAX_AGE"],
                                namespaces=lambda: namespace_creations(gw),
                                set_up_at=lambda created: k8sgpt_set_up_at(gw, created))
            app.extensions[STORE_KEY] = store
    return store


def findings_for(user) -> tuple[list[Finding], object]:
    """Return the findings the user may see and the store snapshot they came from."""
    snapshot = result_store().snapshot()
    admin = is_admin(user)
    namespaces = None if admin else grants_for(user).keys()
    return visible_findings(snapshot.findings, namespaces, is_admin=admin), snapshot


def detail_link_maker(user):
    """Return detail_url(finding): the resource detail URL when the user may open it, else None."""
    admin = is_admin(user)
    grants = {} if admin else grants_for(user)

    def detail_url(finding: Finding) -> str | None:
        kind = kind_for_api_kind(finding.kind)
        if (kind is None or not finding.namespace or not finding.name or "/" in finding.name
                or not (admin or kind.name in grants.get(finding.namespace, ()))):
            return None
        return url_for("resources.detail", kind=kind.name, namespace=finding.namespace,
                       name=finding.name)

    return detail_url


def _since(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, timezone.utc) if timestamp else None


def _pending_report(user, findings, snapshot) -> dict | None:
    """Return what K8sGPT has not reported on yet for an empty dashboard, with its times."""
    if findings or snapshot is None or snapshot.failing_since is not None:
        return None
    pending = pending_report(snapshot, None if is_admin(user) else grants_for(user).keys())
    if pending is None:
        return None
    return {"namespace": pending.namespace, "due": _since(pending.due),
            "since": _since(pending.since), "within": round(pending.due - pending.since)}


def _page_number() -> int:
    page = request.args.get("page", "1")
    return max(int(page), 1) if page.isdigit() else 1


@bp.app_context_processor
def plan_links():
    """Offer templates plan_url(): the plans dialog URL, or None until that endpoint exists."""

    def plan_url(result_name: str, mode: str) -> str | None:
        if "plans.dialog" not in current_app.view_functions:
            return None
        return url_for("plans.dialog", result=result_name, mode=mode)

    return {"plan_url": plan_url, "human_age": human_age}


@bp.get("/")
@login_required
def index():
    """Show the findings in the user's namespaces, filtered by namespace, kind and text."""
    has_grants = is_admin(current_user) or any(grants_for(current_user).values())
    findings, snapshot = findings_for(current_user) if has_grants else ([], None)
    filters = {key: request.args.get(key, "").strip() for key in ("ns", "kind", "q")}
    matching = filter_findings(findings, namespace=filters["ns"], kind=filters["kind"],
                               text=filters["q"])
    pages = max((len(matching) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(_page_number(), pages)
    context = dict(
        has_grants=has_grants,
        findings=matching[(page - 1) * PAGE_SIZE:page * PAGE_SIZE],
        total=len(findings),
        matching=len(matching),
        page=page,
        pages=pages,
        filters=filters,
        namespaces=sorted({f.namespace for f in findings if f.namespace}
                          | set(visible_namespaces(current_user))),
        kinds=sorted({f.kind for f in findings if f.kind}),
        failing_since=_since(snapshot.failing_since) if snapshot else None,
        fetched_at=_since(snapshot.fetched_at) if snapshot else None,
        pending=_pending_report(current_user, findings, snapshot),
        region_id=REGION_ID,
        detail_url=detail_link_maker(current_user),
    )
    block = "issues_region" if request.headers.get("HX-Target") == REGION_ID else None
    response = render("issues/index.html", block=block, **context)
    response.vary.add("HX-Target")
    return response
