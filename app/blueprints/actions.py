"""Acting on a finished plan: each kubectl step of the run, run (read-only) or dry-run on the server
and then applied, as the user who asks. The rules (parser, grants, dry-run bound to Apply, limits,
audit) live in app.actions.service; this blueprint only finds the step and shows the outcome."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, url_for
from flask_login import current_user, login_required

from app.access import actions_enabled, approval_by_admin
from app.actions import approvals, service, verification
from app.actions.outcome import ApprovalState
from app.extensions import db
from app.models import ApprovalRequest
from app.plans.core.plan_steps import plan_steps
from app.web.current import readable_run_or_404
from app.web.htmx import is_htmx, render

bp = Blueprint("actions", __name__, url_prefix="/plans/runs")

CHANGES = {"dry-run": service.dry_run, "apply": service.apply, "request": service.request_approval}


@bp.post("/<int:run_id>/steps/<int:index>/<any('run', 'dry-run', 'apply', 'request'):what>")
@login_required
def act(run_id, index, what):
    """Run, dry-run or apply one step of a plan the user may read; the outcome replaces the step's
    result area (htmx) or is shown on its own page."""
    run = readable_run_or_404(run_id)
    steps = plan_steps(run.output_text or "")  # a step is named by its index in the plan
    if index >= len(steps):
        abort(404, "That plan has no such step.")
    step = steps[index]
    outcome = (service.run_read(current_user, run, step.text) if what == "run"
               else CHANGES[what](current_user, run, step.text, manifest=step.manifest))
    followed = verification.current(run) if what == "apply" and outcome.ok else None
    requested = db.session.get(ApprovalRequest, outcome.request_id) if outcome.request_id else None
    return render("plans/step_result.html", block="result", status=outcome.status_code, run=run,
                  index=index, step=step, steps=steps, what=what, outcome=outcome, verification=followed,
                  approval=requested, oob=is_htmx(), actions_enabled=actions_enabled(current_app.config),
                  approval_by_admin=approval_by_admin(current_app.config))


@bp.get("/<int:run_id>/verification", endpoint="verification")
@login_required
def verification_of(run_id):
    """Where the run's finding stands since its last Apply (polled by the run page while it waits)."""
    run = readable_run_or_404(run_id)
    return render("plans/_verification.html", run=run, verification=verification.current(run), oob=False)


def _request_of(run_id: int, request_id: int):
    run = readable_run_or_404(run_id)
    request = db.session.get(ApprovalRequest, request_id)
    if request is None or request.run_id != run.id:
        abort(404, "That plan has no such approval request.")
    return run, request


@bp.get("/<int:run_id>/approvals/<int:request_id>", endpoint="approval")
@login_required
def approval_of(run_id, request_id):
    """Where one request for an administrator's approval stands (polled while it is pending)."""
    approvals.expire_due()
    run, request = _request_of(run_id, request_id)
    # Once applied, the run's verification starts: sent along (out of band) so the page follows it.
    followed = verification.current(run) if request.state == ApprovalState.APPLIED else None
    return render("plans/_approval.html", run=run, approval=request, followed=followed)


@bp.post("/<int:run_id>/approvals/<int:request_id>/cancel", endpoint="cancel_approval")
@login_required
def cancel_approval(run_id, request_id):
    """The requester withdraws a pending request; the request's new state replaces it (htmx) or the run page."""
    run, request = _request_of(run_id, request_id)
    decision = approvals.cancel(current_user, request)
    if not is_htmx():
        flash(decision.message, "success" if decision.ok else "error")
        return redirect(url_for("plans.show", run_id=run.id), 303)
    return render("plans/_approval.html", run=run, approval=request, status=decision.status_code,
                  refusal=None if decision.ok else decision.message)
