"""Helpers every login method shares: record a login, write the audit log."""

from flask import has_request_context, request, session
from flask_login import login_user

from app.extensions import db
from app.models import AuditEvent, utcnow


def audit(actor, action, target=None, detail=None):
    """Add an audit event to the current transaction (the caller commits).

    actor is a User or None (anonymous, e.g. a failed login); action is a dotted
    verb such as "login", "login.failed", "grant.create", "user.disable".
    """
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", None),
        action=action,
        target=None if target is None else str(target)[:300],
        detail=detail,
        remote_addr=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event


def record_login(user, method):
    """Log the user in for a fresh session and audit it (the caller commits).

    The session becomes permanent so CODEX_SESSION_LIFETIME bounds it.
    """
    login_user(user)
    session.permanent = True
    user.last_login_at = utcnow()
    audit(user, "login", user.username, f"method: {method}")
