"""After an Apply, the plan follows its finding: waiting for K8sGPT's next analysis, then "cleared"
once K8sGPT no longer reports the Result, or "still reported" once CODEX_VERIFY_WITHIN seconds have
passed. The outcome is stored once, as a `verify` row of the run's actions, so reopening the run
later shows it; until then every look (the run page polls) asks the cluster again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.actions import records
from app.actions.outcome import ActionKind, ActionStatus, Outcome, Reason
from app.cluster.errors import ClusterError, NotFound
from app.cluster.gateway import gateway
from app.extensions import db
from app.models import PlanAction, PlanRun, utcnow


@dataclass(frozen=True)
class Verification:
    """Where a run's finding stands after its last accepted Apply."""

    applied_at: datetime
    state: str  # "waiting", "cleared" or "still-reported"
    message: str
    decided_at: datetime | None = None

    @property
    def waiting(self) -> bool:
        return self.state == "waiting"


def current(run: PlanRun) -> Verification | None:
    """`follow` with the current app's gateway and CODEX_VERIFY_WITHIN."""
    return follow(run, gateway(), current_app.config["CODEX_VERIFY_WITHIN"])


def follow(run: PlanRun, gw, within_seconds: int) -> Verification | None:
    """The verification of the run's last accepted Apply (None before any); decides it when due."""
    applied = _last(run, ActionKind.APPLY, ActionStatus.ACCEPTED)
    if applied is None:
        return None
    decided = _last(run, ActionKind.VERIFY, None, after=applied.created_at)
    if decided is not None:
        return _from_record(applied, decided)
    try:
        gw.get_result(run.result_name)
        reported = True
    except NotFound:
        reported = False
    except ClusterError as exc:
        return Verification(applied.created_at, "waiting", f"K8sGPT's findings cannot be read right now "
                                                           f"({exc.message}); still waiting.")
    now = utcnow()
    if reported and now < applied.created_at + timedelta(seconds=within_seconds):
        return Verification(applied.created_at, "waiting", "Applied. Waiting for K8sGPT's next analysis "
                                                           "(it looks about every 30 seconds)…")
    if reported:
        minutes = max(round(within_seconds / 60), 1)
        outcome = Outcome(ActionKind.VERIFY, ActionStatus.FAILED, Reason.STILL_REPORTED,
                          f"K8sGPT still reports this finding {minutes} minute{'s' if minutes > 1 else ''} "
                          f"after the change: see the root-cause plan.")
    else:
        outcome = Outcome(ActionKind.VERIFY, ActionStatus.ACCEPTED, Reason.OK,
                          f"Finding cleared at {now:%H:%M:%S} UTC: K8sGPT no longer reports it.")
    saved = records.save(applied.user, run, applied.step_text, None, outcome)  # in the applier's name
    return _from_record(applied, db.session.get(PlanAction, saved.record_id))


def _from_record(applied: PlanAction, decided: PlanAction) -> Verification:
    state = "cleared" if decided.status == ActionStatus.ACCEPTED else "still-reported"
    return Verification(applied.created_at, state, decided.message, decided.created_at)


def _last(run: PlanRun, action: ActionKind, status: ActionStatus | None, after: datetime | None = None):
    query = sa.select(PlanAction).where(PlanAction.run_id == run.id, PlanAction.action == action)
    if status is not None:
        query = query.where(PlanAction.status == status)
    if after is not None:
        query = query.where(PlanAction.created_at >= after)
    return db.session.scalar(query.order_by(PlanAction.created_at.desc(), PlanAction.id.desc()).limit(1))
