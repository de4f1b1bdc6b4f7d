"""Helpers for the actions tests: a plan run to act on, one action as a user, what was recorded."""

from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa

from app.actions import service
from app.extensions import db
from app.models import AuditEvent, PlanAction, PlanRun, User
from app.plans import runs
from app.plans.core.vocabulary import PlanMode, RunStatus

ACTIONS = {"run": service.run_read, "dry-run": service.dry_run, "apply": service.apply}


def make_run(app, user_id: int, namespace: str, name: str = "web", kind: str = "Deployment") -> int:
    """A finished remediation plan of `user_id` about `kind` namespace/name; its id."""
    with app.app_context():
        finding = SimpleNamespace(kind=kind, namespace=namespace, name=name)
        run = runs.create_run(user_id, f"{namespace}-{name}", finding, PlanMode.REMEDIATION, status=RunStatus.DONE)
        return run.id


def act(app, what: str, user_id: int, run_id: int, text: str, manifest: str | None = None):
    """Run, dry-run or apply `text` as the user, the way the blueprint does; the Outcome."""
    with app.app_context():
        user, run = db.session.get(User, user_id), db.session.get(PlanRun, run_id)
        if what == "run":
            return ACTIONS[what](user, run, text)
        return ACTIONS[what](user, run, text, manifest=manifest)


def recorded(app, run_id: int) -> list[dict]:
    """The plan_actions rows of a run, oldest first, as plain dicts."""
    with app.app_context():
        rows = db.session.scalars(sa.select(PlanAction).where(PlanAction.run_id == run_id)
                                  .order_by(PlanAction.id)).all()
        return [{column.name: getattr(row, column.name) for column in PlanAction.__table__.columns} for row in rows]


def audited(app, user_id: int, prefix: str = "action.") -> list[AuditEvent]:
    """The user's audit events whose action starts with `prefix`, oldest first (detached)."""
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.actor_id == user_id, AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        return events
