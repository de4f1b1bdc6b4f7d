"""Actions per user per minute (CODEX_ACTIONS_PER_MINUTE), reserved atomically.

Like a plan slot (app.plans.limits), a slot is taken in one transaction that first locks the
user's row (an ``UPDATE``: a row lock on PostgreSQL, the database write lock on SQLite), then
counts and inserts before committing, so parallel requests from any number of processes accept
exactly the limit. The slot is an ``action.requested`` audit event: it is committed before kubectl
starts (so the audit log shows an attempt even if the process dies during it) and it is what is
counted; the action's own row and outcome event follow once the outcome is known.
"""

from __future__ import annotations

import math
from datetime import timedelta

import sqlalchemy as sa

from app.auth import audit
from app.extensions import db
from app.models import AuditEvent, User, utcnow

REQUESTED = "action.requested"
WINDOW_SECONDS = 60


class ActionLimitReached(Exception):
    """The user started CODEX_ACTIONS_PER_MINUTE actions in the last minute."""

    def __init__(self, message, retry_after):
        super().__init__(message)
        self.message, self.retry_after = message, retry_after


def reserve_action(user, per_minute: int, target: str, detail: str) -> None:
    """Take one of the user's action slots (commits), or raise ActionLimitReached.

    Call it with nothing pending in the session: it starts a fresh transaction.
    """
    assert not (db.session.new or db.session.dirty or db.session.deleted), "commit before reserving"
    db.session.rollback()
    db.session.execute(sa.update(User).where(User.id == user.id).values(id=User.id))  # the lock
    since = utcnow() - timedelta(seconds=WINDOW_SECONDS)
    count, oldest = db.session.execute(
        sa.select(sa.func.count(AuditEvent.id), sa.func.min(AuditEvent.created_at))
        .where(AuditEvent.actor_id == user.id, AuditEvent.action == REQUESTED, AuditEvent.created_at >= since)
    ).one()
    if count >= per_minute:
        db.session.rollback()
        wait = max(1, math.ceil(WINDOW_SECONDS - (utcnow() - oldest).total_seconds())) if oldest else WINDOW_SECONDS
        raise ActionLimitReached(
            f"You started {count} actions in the last minute; the limit is {per_minute} per minute. "
            f"Try again in {wait} s.", wait)
    audit(user, REQUESTED, target, detail)
    db.session.commit()  # releases the lock
