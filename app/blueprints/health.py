"""Liveness and readiness probes."""

import ipaddress

import sqlalchemy as sa
from flask import Blueprint, jsonify, request
from flask_login import current_user

from app.access import is_admin
from app.cluster.gateway import ClusterError, gateway
from app.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Say the process is alive."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Check the database and the cluster; 503 when either fails, with reasons for insiders."""
    checks, ready = {}, True
    try:
        db.session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        checks["database"] = f"unavailable: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        ready = False
    try:
        gateway().ping()
        checks["cluster"] = "ok"
    except ClusterError as exc:
        checks["cluster"] = f"unavailable: {exc.message}"
        ready = False
    if not _may_see_reasons():
        # Error texts name hosts, paths and drivers: everyone else learns only what is down.
        checks = {name: "ok" if value == "ok" else "unavailable" for name, value in checks.items()}
    response = jsonify(status="ok" if ready else "unavailable", checks=checks)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"  # the answer depends on who asks
    return response


def _may_see_reasons():
    """Loopback callers (the host's own probes, an operator's curl) and administrators.

    Behind a reverse proxy on the same host every client looks like loopback unless the
    deployment sets up werkzeug's ProxyFix, so that proxy should not forward /readyz.
    """
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        address = None
    if address is not None and (getattr(address, "ipv4_mapped", None) or address).is_loopback:
        return True
    try:
        return is_admin(current_user)
    except sa.exc.SQLAlchemyError:  # loading the signed-in user needs the database
        db.session.rollback()
        return False
