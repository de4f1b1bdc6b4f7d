"""Helpers every login method shares: check a password, record a login, write the audit log."""

import secrets
from functools import cache

import sqlalchemy as sa
from flask import has_request_context, request, session
from flask_login import login_user
from werkzeug.security import check_password_hash, generate_password_hash

from app import sessions
from app.extensions import db
from app.models import AuditEvent, User, utcnow


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


@cache
def _stand_in_hash():
    # Hashed like a real password (same method and cost), of a secret nobody knows.
    return generate_password_hash(secrets.token_urlsafe(32), method="scrypt")


def user_with_password(username, password):
    """The user whose password this is, else None (disabled users included).

    Exactly one scrypt check either way: an unknown username, or one without a password
    (SSO only), costs what a wrong password costs, so the answer time tells nothing.
    """
    stand_in = _stand_in_hash()  # made by the first attempt of any kind, not of unknown users
    user = db.session.scalar(sa.select(User).where(User.username == username)) if username else None
    if user is not None and user.password_hash:
        return user if user.check_password(password) else None
    check_password_hash(stand_in, password)
    return None


def record_login(user, method):
    """Log the user in for a fresh session and audit it (the caller commits).

    The session becomes permanent so CODEX_SESSION_LIFETIME bounds it, and carries the
    stamps app.sessions checks on every request.
    """
    login_user(user)
    session.permanent = True
    sessions.start(user)
    user.last_login_at = utcnow()
    audit(user, "login", user.username, f"method: {method}")
