"""The signed-in user's access, read once per request however many views, partials and template
globals ask (a dashboard page asks once per row), and their reader of the cluster with the
app's one row cache."""

from __future__ import annotations

from flask import abort, current_app, has_request_context, request
from flask_login import current_user

from app.access import Access, access_for
from app.cluster.gateway import gateway
from app.cluster.user_reader import UserReader
from app.extensions import db
from app.models import PlanRun
from app.plans import runs
from app.resources.listing import RowCache

ENVIRON_KEY = "codex.access"
ROW_CACHE_KEY = "codex_row_cache"


def init_app(app):
    """Give the app the one cache of listed rows its readers share (keyed by who read them)."""
    app.extensions[ROW_CACHE_KEY] = RowCache(ttl=app.config["CODEX_LIST_CACHE_TTL"])


def current_access() -> Access:
    # Kept in the request's environ, not in g: an app context (and its g) can outlive a request
    # and serve the next one, with another user or other grants.
    if not has_request_context():
        return access_for(current_user)
    access = request.environ.get(ENVIRON_KEY)
    if access is None:
        access = request.environ[ENVIRON_KEY] = access_for(current_user)
    return access


def current_reader() -> UserReader:
    """A reader of the cluster as the signed-in user, checked against their access."""
    return UserReader(gateway(), current_user, current_access(), current_app.extensions[ROW_CACHE_KEY])


def readable_run_or_404(run_id: int) -> PlanRun:
    """A plan run the signed-in user may read now (app.plans.runs.readable_by), else 404, the same
    answer as for a run that does not exist."""
    run = db.session.get(PlanRun, run_id)
    if run is None or not runs.readable_by(run, current_user, current_access()):
        abort(404, "That plan does not exist or you may not see it.")
    return run
