"""K9s-style resource tabs: one table per granted kind, and a detail view per object.

Every read is made as the user (impersonated), after the app's own grant check. A namespace
that is not granted answers 404, exactly like an object that does not exist, so a URL typed
by hand reveals nothing.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import login_required

from app.access import Access
from app.cluster.gateway import ClusterError, Forbidden, NotFound, Unavailable, gateway
from app.cluster.user_reader import UserReader
from app.kinds import Kind, get_kind, resolve_alias
from app.resources.format import row_cells
from app.resources.listing import SORT_LIMIT, Query, list_page
from app.resources.yaml_view import object_yaml
from app.result_store import findings_for
from app.web.current import current_access, current_reader
from app.web.htmx import is_htmx, render
from app.web.urls import object_url

bp = Blueprint("resources", __name__, url_prefix="/resources")

VIEW_ID = "resource-view"
TABLE_ID = "resource-table"


def _kind_or_404(name: str) -> Kind:
    kind = get_kind(name)
    if kind is None:
        abort(404)
    return kind


def _cluster_error(exc: ClusterError) -> tuple[str, int]:
    """Turn a gateway error into a message for the page and a status code."""
    if isinstance(exc, Unavailable):
        since = exc.since.strftime("%Y-%m-%d %H:%M:%S UTC") if exc.since else "just now"
        return f"The cluster cannot be reached since {since}.", 503
    if isinstance(exc, Forbidden):
        return ("The cluster refused this read. Your access may still be being applied; "
                "try again in a moment."), 403
    return f"The cluster could not answer: {exc.message}", 502


def _namespace_choices(access: Access, kind: Kind) -> list[str]:
    namespaces = access.namespaces(kind)
    if namespaces is not None:
        return namespaces
    try:
        return gateway().list_namespaces()
    except ClusterError:
        return []


@bp.get("/")
@login_required
def home():
    """Open the first granted kind's tab."""
    kinds = current_access().kinds()
    if not kinds:
        return render("resources/index.html", kind=None, tabs=[], error=None)
    return redirect(url_for("resources.index", kind=kinds[0].name))


@bp.get("/<kind>")
@login_required
def index(kind):
    """List one kind across the granted namespaces, one page at a time (/resources/po works too)."""
    alias = resolve_alias(kind)
    if alias is not None and alias.name != kind:
        return redirect(url_for("resources.index", kind=alias.name, **request.args))
    kind = _kind_or_404(kind)
    access = current_access()
    if kind not in access.kinds():
        abort(404)
    query = Query(namespace=request.args.get("ns", "").strip(), text=request.args.get("q", ""),
                  sort=request.args.get("sort", ""), desc=request.args.get("desc") == "1",
                  cursor=request.args.get("cursor", ""))
    if query.namespace:
        if not access.allows(query.namespace, kind):
            abort(404)
        namespaces: list[str | None] = [query.namespace]
    else:
        granted = access.namespaces(kind)
        namespaces = [None] if granted is None else list(granted)
    page, error, status = None, None, 200
    try:
        page = list_page(current_reader(), kind, namespaces, query)
    except ClusterError as exc:
        error, status = _cluster_error(exc)
        if exc.status == 410:  # the continue token expired: start again from the first page
            return redirect(url_for("resources.index", kind=kind.name, ns=query.namespace,
                                    q=query.text, sort=query.sort))
    response = render(
        "resources/index.html", block=_block(), status=200 if is_htmx() else status,
        kind=kind, tabs=access.kinds(), query=query, page=page, error=error,
        namespace_choices=_namespace_choices(access, kind), view_id=VIEW_ID, table_id=TABLE_ID,
        sort_limit=SORT_LIMIT,
    )
    response.vary.add("HX-Target")
    return response


def _block(blocks=(VIEW_ID, TABLE_ID)) -> str | None:
    """Name the template block an htmx request targets, among the page's `blocks`; None (an
    unknown or foreign target) renders the whole page."""
    target = request.headers.get("HX-Target", "")
    return {VIEW_ID: "resource_view", TABLE_ID: "resource_table"}.get(target) if target in blocks else None


def _owner_links(access: Access, namespace: str, obj: dict) -> list[dict]:
    refs = [ref for ref in (obj.get("metadata") or {}).get("ownerReferences") or []
            if isinstance(ref, dict)]
    return [{"kind": str(ref.get("kind", "")), "name": str(ref.get("name", "")),
             "url": object_url(access, str(ref.get("kind", "")), namespace, str(ref.get("name", "")))}
            for ref in refs]


def _events(reader: UserReader, access: Access, kind: Kind, namespace: str, name: str):
    """Return (events, note) for the detail view; events need their own grant."""
    events_kind = get_kind("events")
    if kind is events_kind:
        return [], None
    if not access.allows(namespace, events_kind):
        return [], "Events are not granted to you in this namespace."
    try:
        items = reader.events_for(namespace, kind.api_kind, name)
    except ClusterError as exc:
        return [], _cluster_error(exc)[0]
    return [row_cells(events_kind, e) for e in items], None


@bp.get("/<kind>/<namespace>/<name>")
@login_required
def detail(kind, namespace, name):
    """Show one object: YAML without managed fields or secret values, events, owner, issues."""
    kind = _kind_or_404(kind)
    access = current_access()
    if not access.allows(namespace, kind):
        abort(404)  # same answer as a missing object: existence is not revealed
    reader = current_reader()
    try:
        obj = reader.get(kind, namespace, name)
    except NotFound:
        abort(404)
    except ClusterError as exc:
        error, status = _cluster_error(exc)
        return render("resources/detail.html", block=_block((VIEW_ID,)), status=status, kind=kind,
                      namespace=namespace, name=name, error=error, tabs=access.kinds(),
                      view_id=VIEW_ID)
    events, events_note = _events(reader, access, kind, namespace, name)
    issues = [f for f in findings_for(access)[0] if f.namespace == namespace and f.name == name
              and f.kind.lower() == kind.api_kind.lower()]
    response = render(
        "resources/detail.html", block=_block((VIEW_ID,)), kind=kind, namespace=namespace,
        name=name, error=None, yaml_text=object_yaml(kind, obj), events=events,
        events_note=events_note, owners=_owner_links(access, namespace, obj), issues=issues,
        tabs=access.kinds(), view_id=VIEW_ID, events_kind=get_kind("events"),
    )
    response.vary.add("HX-Target")
    return response
