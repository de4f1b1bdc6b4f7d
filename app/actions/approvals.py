"""Four eyes (CODEX_APPROVAL=admin): a user's accepted dry-run becomes a request; an administrator
approves or rejects it; requests expire after CODEX_APPROVAL_EXPIRES_AFTER.

An approval never applies the old dry-run. It dry-runs the step again *as the requester* (so their
grants and their RBAC still bound it; a lost grant refuses it), refuses if the objects changed since
the dry-run the administrator looked at, and then applies it as the requester through the same
rules as every Apply. The dry-run and the Apply are the requester's plan_actions rows; the decision
is the administrator's audit event. Nobody approves their own request.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.access import is_admin
from app.actions import records, service
from app.actions.outcome import ApprovalState
from app.auth import audit
from app.extensions import db
from app.models import ApprovalRequest, PlanAction, PlanRun, utcnow


@dataclass(frozen=True)
class Decision:
    """What an administrator's Approve or Reject came to; `message` is shown on the admin page."""

    request: ApprovalRequest
    ok: bool
    status_code: int
    message: str


def pending() -> list[ApprovalRequest]:
    """Every request still waiting for an administrator, oldest first (expired ones marked first)."""
    expire_due()
    return list(db.session.scalars(sa.select(ApprovalRequest).where(ApprovalRequest.state == ApprovalState.PENDING)
                                   .order_by(ApprovalRequest.created_at, ApprovalRequest.id)))


def of_run(run: PlanRun) -> dict[str, list[ApprovalRequest]]:
    """A run's requests grouped by step text, oldest first (the caller checks the run is readable)."""
    expire_due()
    grouped: dict[str, list[ApprovalRequest]] = {}
    for request in db.session.scalars(sa.select(ApprovalRequest).where(ApprovalRequest.run_id == run.id)
                                      .order_by(ApprovalRequest.created_at, ApprovalRequest.id)):
        grouped.setdefault(request.step_text, []).append(request)
    return grouped


def expire_due() -> int:
    """Mark pending requests past their time as expired, each with an audit event; how many."""
    due = db.session.scalars(sa.select(ApprovalRequest).where(
        ApprovalRequest.state == ApprovalState.PENDING, ApprovalRequest.expires_at <= utcnow())).all()
    for request in due:
        _decide(request, None, ApprovalState.EXPIRED, "Nobody approved it in time: dry-run and request again.")
        audit(None, "approval.expire", _target(request), _detail(request))
    if due:
        db.session.commit()
    return len(due)


def approve(admin, request: ApprovalRequest) -> Decision:
    """Dry-run the request again as its requester and, if nothing changed, apply it as them."""
    refused = _refusal(admin, request, "approve")
    if refused:
        return refused
    requester, run = request.requester, request.run
    dry = service.dry_run(requester, run, request.step_text, request.manifest)
    if not dry.ok:
        return _failed(admin, request, dry.status_code, f"Not applied: the new dry-run as {requester.username} "
                                                         f"was refused. {dry.message}")
    seen = request.dry_run.resource_versions if request.dry_run else None
    if db.session.get(PlanAction, dry.record_id).resource_versions != seen:
        return _failed(admin, request, 409, "Not applied: the object changed since the dry-run you were shown; "
                                            "the requester must dry-run and request again.")
    applied = service.apply(requester, run, request.step_text, request.manifest, approved_by=admin)
    if not applied.ok:
        return _failed(admin, request, applied.status_code, f"Not applied. {applied.message}")
    said = applied.message.partition("kubectl said: ")[2]
    _decide(request, admin, ApprovalState.APPLIED, f"Approved by {admin.username} and applied as "
                                                   f"{requester.username}." + (f" kubectl said: {said}" if said else ""))
    audit(admin, "approval.approve", _target(request), _detail(request, f"applied as {applied.identity}"))
    db.session.commit()
    return Decision(request, True, 200, request.message)


def reject(admin, request: ApprovalRequest) -> Decision:
    """Close a pending request without applying it."""
    refused = _refusal(admin, request, "reject")
    if refused:
        return refused
    _decide(request, admin, ApprovalState.REJECTED, f"Rejected by {admin.username}.")
    audit(admin, "approval.reject", _target(request), _detail(request))
    db.session.commit()
    return Decision(request, True, 200, request.message)


def cancel(user, request: ApprovalRequest) -> Decision:
    """The requester withdraws a request nobody has decided yet."""
    expire_due()
    if request.requester_id != getattr(user, "id", None):
        return Decision(request, False, 403, "Only the person who asked may cancel this request.")
    if request.state != ApprovalState.PENDING:
        return Decision(request, False, 409, f"This request is {ApprovalState(request.state).label.lower()} "
                                             "already: nothing to cancel.")
    _decide(request, None, ApprovalState.CANCELLED, f"Cancelled by {user.username}; nothing was applied.")
    audit(user, "approval.cancel", _target(request), _detail(request))
    db.session.commit()
    return Decision(request, True, 200, request.message)


def _refusal(admin, request: ApprovalRequest, verb: str) -> Decision | None:
    """Why this administrator may not decide this request now (None: they may)."""
    expire_due()
    if not is_admin(admin):
        return Decision(request, False, 403, "Only administrators decide approval requests.")
    if request.state != ApprovalState.PENDING:
        return Decision(request, False, 409, f"This request is {ApprovalState(request.state).label.lower()} "
                                             "already: nothing to decide.")
    if verb == "approve" and request.requester_id == admin.id:
        audit(admin, "approval.approve.refused", _target(request), _detail(request, "own request"))
        db.session.commit()
        return Decision(request, False, 403, "Four eyes: you may not approve your own request; another "
                                             "administrator must.")
    if request.requester is None:
        return _failed(admin, request, 409, "Not applied: the requester no longer exists.")
    return None


def _failed(admin, request: ApprovalRequest, status_code: int, message: str) -> Decision:
    _decide(request, admin, ApprovalState.FAILED, message)
    audit(admin, "approval.approve.failed", _target(request), _detail(request, message))
    db.session.commit()
    return Decision(request, False, status_code, message)


def _decide(request: ApprovalRequest, admin, state: ApprovalState, message: str) -> None:
    request.state, request.message, request.decided_at = state, message, utcnow()
    request.decided_by_id = getattr(admin, "id", None)


def _target(request: ApprovalRequest) -> str:
    return f"plan run {request.run_id}; approval request {request.id}"


def _detail(request: ApprovalRequest, outcome: str = "") -> str:
    requester = request.requester.username if request.requester else "a deleted user"
    said = f"; {outcome}" if outcome else ""
    return f"requested by {requester}; command: {records.command_for_audit(request.step_text)}{said}"
