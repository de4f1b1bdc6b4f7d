"""The admin page of approval requests (CODEX_APPROVAL=admin): each pending Apply with its command,
the dry-run's change, requester, finding and age; Approve or Reject. The rules (four eyes, a new
dry-run as the requester, expiry) live in app.actions.approvals."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, url_for
from flask_login import current_user, login_required

from app.access import approval_by_admin, is_admin
from app.actions import approvals
from app.extensions import db
from app.models import ApprovalRequest, utcnow
from app.web.htmx import is_htmx, render

bp = Blueprint("approvals", __name__, url_prefix="/admin/approvals")

DECISIONS = {"approve": approvals.approve, "reject": approvals.reject}


@bp.before_request
@login_required
def require_admin():
    """Administrators only, like the rest of the admin portal."""
    if not is_admin(current_user):
        abort(403, "The admin portal is for administrators.")


@bp.get("")
def index():
    """List the requests waiting for an administrator, oldest first."""
    return render("admin/approvals.html", block="panel", requests=approvals.pending(), now=utcnow(),
                  approval_by_admin=approval_by_admin(current_app.config))


@bp.post("/<int:request_id>/<any('approve', 'reject'):decision>")
def decide(request_id, decision):
    """Approve (dry-run again and apply as the requester) or reject one request."""
    request = db.session.get(ApprovalRequest, request_id)
    if request is None:
        abort(404, "No such approval request.")
    outcome = DECISIONS[decision](current_user, request)
    if not is_htmx():
        flash(outcome.message, "success" if outcome.ok else "error")
        return redirect(url_for("approvals.index"), 303)
    return render("admin/_approval_row.html", status=outcome.status_code, request=request, decision=outcome,
                  now=utcnow())
