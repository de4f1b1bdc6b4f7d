"""The plan_actions rows and their audit events: each written once, with its outcome, in one
transaction; and the queries an Apply and a run's history need."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import timedelta

import sqlalchemy as sa

from app.actions.outcome import ActionKind, ActionStatus, ApprovalState, Outcome
from app.auth import audit
from app.extensions import db
from app.models import ApprovalRequest, PlanAction, PlanRun, utcnow
from app.plans.core.kubectl_verbs import clip
from app.redact import redact_text

MAX_STORED_TEXT = 4000  # characters of a refused text kept (an accepted step is at most 2,000)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def manifest_hash(manifest: str | None) -> str | None:
    """The SHA-256 of an `apply -f -` manifest as shown in the plan (None without one)."""
    return None if manifest is None else hashlib.sha256(manifest.encode()).hexdigest()


def save(user, run: PlanRun, text: str, manifest: str | None, outcome: Outcome,
         resource_versions: str | None = None) -> Outcome:
    """Write the action and its audit event and commit; return the outcome with its record id."""
    record = PlanAction(
        run_id=run.id, user_id=getattr(user, "id", None), action=outcome.action,
        step_text=printable(text)[:MAX_STORED_TEXT], manifest_sha256=manifest_hash(manifest),
        verb=outcome.verb, namespace=outcome.namespace, kind=outcome.kind, name=outcome.name,
        resource_versions=resource_versions,
        identity=outcome.identity and outcome.identity[:300], status=outcome.status, reason=outcome.reason,
        status_code=outcome.status_code, message=outcome.message, exit_code=outcome.exit_code,
        duration_ms=None if outcome.duration is None else round(outcome.duration * 1000),
        output=outcome.output, diff=outcome.diff, created_at=utcnow())
    db.session.add(record)
    audit_outcome(user, run, text, outcome)
    db.session.commit()
    return replace(outcome, record_id=record.id)


def audit_outcome(user, run: PlanRun, text: str, outcome: Outcome) -> None:
    """The audit event of an outcome: who, as which identity, the command, where, what happened."""
    refused = outcome.status is ActionStatus.REFUSED
    target = "/".join(part for part in (outcome.namespace, outcome.kind, outcome.name) if part)
    audit(user, f"action.{outcome.action}{'.refused' if refused else ''}", target or f"plan run {run.id}",
          f"plan run {run.id}; as {outcome.identity or 'nobody (kubectl not started)'}; "
          f"command: {command_for_audit(text)}; namespace: {outcome.namespace or '-'}; "
          f"kind: {outcome.kind or '-'}; outcome: {outcome.status} ({outcome.status_code} {outcome.reason}): "
          f"{clip(outcome.message, 500)}")


def command_for_audit(text: str) -> str:
    """The command as the audit log keeps it: redacted (an env value may be a secret), clipped."""
    return clip(redact_text(printable(text or "")), 500)


def printable(text: str) -> str:
    """Control characters written out (``\\x00``, ``\\n``): PostgreSQL stores no NUL, and the parser
    refuses every text that has one, so an Apply never needs to match such a text."""
    return _CONTROL.sub(lambda match: repr(match[0])[1:-1], text)


def last_binding(run: PlanRun, user, text: str, manifest: str | None) -> PlanAction | None:
    """The newest dry-run or apply of exactly this text (and manifest) by this user on this run that
    kubectl was asked to carry out (refusals before kubectl do not count): an Apply needs it to be
    an accepted dry-run."""
    digest = manifest_hash(manifest)
    return db.session.scalar(
        sa.select(PlanAction)
        .where(PlanAction.run_id == run.id, PlanAction.user_id == user.id,
               PlanAction.action.in_([ActionKind.DRY_RUN, ActionKind.APPLY]),
               PlanAction.status != ActionStatus.REFUSED, PlanAction.step_text == text,
               PlanAction.manifest_sha256.is_(None) if digest is None else PlanAction.manifest_sha256 == digest)
        .order_by(PlanAction.created_at.desc(), PlanAction.id.desc())
        .limit(1))


def expired(record: PlanAction, valid_for_seconds: int) -> bool:
    return record.created_at < utcnow() - timedelta(seconds=valid_for_seconds)


def history(run: PlanRun) -> list[PlanAction]:
    """Every action on a run's steps, oldest first (the caller checks the run is readable)."""
    return list(db.session.scalars(
        sa.select(PlanAction).where(PlanAction.run_id == run.id)
        .order_by(PlanAction.created_at, PlanAction.id)))


def by_step(run: PlanRun) -> dict[str, list[PlanAction]]:
    """A run's actions grouped by the step text they were asked for, oldest first."""
    grouped: dict[str, list[PlanAction]] = {}
    for record in history(run):
        grouped.setdefault(record.step_text, []).append(record)
    return grouped


def open_request(user, run: PlanRun, text: str, manifest: str | None, dry_run: PlanAction,
                 expires_after: int) -> ApprovalRequest:
    """A pending approval request resting on `dry_run`, added to the session (the action's save commits)."""
    now = utcnow()
    request = ApprovalRequest(run_id=run.id, requester_id=user.id, step_text=text, manifest=manifest,
                              dry_run_id=dry_run.id, state=ApprovalState.PENDING, message="", created_at=now,
                              expires_at=now + timedelta(seconds=expires_after))
    db.session.add(request)
    db.session.flush()
    return request


def pending_request(run: PlanRun, text: str, manifest: str | None) -> ApprovalRequest | None:
    """The pending, unexpired request of exactly this text (and manifest) on this run, if any."""
    return db.session.scalar(
        sa.select(ApprovalRequest)
        .where(ApprovalRequest.run_id == run.id, ApprovalRequest.step_text == text,
               ApprovalRequest.state == ApprovalState.PENDING, ApprovalRequest.expires_at > utcnow(),
               ApprovalRequest.manifest.is_(None) if manifest is None else ApprovalRequest.manifest == manifest)
        .limit(1))
