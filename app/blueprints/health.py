"""Liveness and readiness probes."""

import sqlalchemy as sa
from flask import Blueprint, jsonify

from app.cluster.gateway import ClusterError, gateway
from app.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Say the process is alive."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Check the database and the cluster; 503 with the reason when either fails."""
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
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503
