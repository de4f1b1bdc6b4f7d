"""Per-user limits on plan runs: concurrent streams and runs started per minute.

`check_limits` is a fast, optimistic count run before any expensive work (reading the cluster,
building the prompt). It can be raced: twenty simultaneous Generates all pass it. The slot is
therefore taken again by `reserve_run`, atomically: one transaction locks the user's row (an
``UPDATE`` — a row lock on PostgreSQL, the database write lock on SQLite), counts, and inserts the
run before committing. Concurrent reservations of one user queue on that lock, in this process or
any other sharing the database, so exactly the configured number get through.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import User
from app.plans import runs


class PlanLimitReached(Exception):
    """The user may not start another run now; ``message`` is shown in the dialog (HTTP 429)."""

    def __init__(self, message, retry_after):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def check_limits(user_id, config):
    """Raise PlanLimitReached when a new run would exceed CODEX_PLAN_MAX_CONCURRENT or _PER_MINUTE."""
    max_concurrent = int(config["CODEX_PLAN_MAX_CONCURRENT"])
    max_per_minute = int(config["CODEX_PLAN_MAX_PER_MINUTE"])
    streaming, last_minute = runs.recent_counts(user_id, int(config["CODEX_PLAN_STALE_AFTER"]))
    if streaming >= max_concurrent:
        raise PlanLimitReached(
            f"You already have {streaming} plan{'s' if streaming != 1 else ''} generating; the limit is "
            f"{max_concurrent} at a time. Stop one or wait for it to finish, then try again.", 5)
    if last_minute >= max_per_minute:
        raise PlanLimitReached(
            f"You started {last_minute} plans in the last minute; the limit is {max_per_minute} per "
            "minute. Wait a minute and try again.", 60)


def reserve_run(user_id, config, **run_fields):
    """Check the limits and insert the run in one transaction serialized per user; return the run.

    Call it with nothing pending in the session: it starts a fresh transaction (whose first
    statement is the lock), which discards uncommitted changes.
    """
    assert not (db.session.new or db.session.dirty or db.session.deleted), "commit before reserving"
    db.session.rollback()
    db.session.execute(sa.update(User).where(User.id == user_id)
                       .values(plan_slot_lock=User.plan_slot_lock + 1))
    try:
        check_limits(user_id, config)
    except PlanLimitReached:
        db.session.rollback()
        raise
    return runs.create_run(user_id, **run_fields)  # commits, which releases the lock
