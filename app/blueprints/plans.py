"""Plans for findings: the dialog, Generate, the SSE stream, Stop, history and prompts."""

from __future__ import annotations

import hashlib
import re

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_login import current_user, login_required

from app.access import access_for, actions_enabled, approval_by_admin, is_admin
from app.actions import approvals, records, verification
from app.cluster.gateway import gateway
from app.extensions import db
from app.models import PlanRun, User
from app.plans import model_client, plan_bus, runs, submit
from app.plans.cluster_context import FindingGone, gathered_kinds, live_context, load_finding
from app.plans.core.plan_steps import plan_steps
from app.plans.core.markdown import render_plan
from app.plans.core.prompts import PromptError, build_messages, clean_user_context
from app.plans.core.vocabulary import MODE_LABELS, MODES, RunStatus
from app.plans.limits import PlanLimitReached, check_limits, reserve_run
from app.plans.stream import follow, revoked
from app.web.current import current_access, current_reader, readable_run_or_404
from app.web.htmx import is_htmx, render
from app.web.sse import sse_response

bp = Blueprint("plans", __name__, url_prefix="/plans")

DIALOG_ID = re.compile(r"plan-[0-9a-f]{12}")
QUEUE_DOWN = "The plan could not be queued: the server's job queue cannot be reached right now. Try again in a moment."
# One answer for "gone" and "not yours": a finding outside the user's grants must look exactly
# like one that does not exist (same status, same body), and neither stores a run.
UNAVAILABLE_MESSAGE = ("This finding is not available: K8sGPT no longer reports it (the problem may "
                       "be fixed, or the object was deleted), or you may not see it. Close this "
                       "dialog and reload the issues.")


def _mode(value):
    if value not in MODES:
        abort(404, "There is no such plan type.")
    return value


def _dialog_id(result_name, mode):
    return "plan-" + hashlib.sha1(f"{result_name}/{mode}".encode()).hexdigest()[:12]


def _allowed_namespaces():
    """Namespaces a plan's commands may aim at without a flag (None: administrators)."""
    namespaces = current_access().namespaces()
    return None if namespaces is None else tuple(namespaces)


def _visible_history(finding):
    return _visible_history_of(finding.kind, finding.namespace, finding.name)


def _visible_history_of(kind, namespace, name):
    """The runs about one finding that the current user may read."""
    access = current_access()
    return [run for run in runs.history_for(kind, namespace, name)
            if runs.readable_by(run, current_user, access)]


def _dialog_page(finding, mode, result_name, status=200, **extra):
    """The dialog (fragment for htmx, a full page otherwise) for one finding and plan type."""
    context = dict(finding=finding, mode=mode, mode_label=MODE_LABELS[mode], result_name=result_name,
                   dialog_id=_dialog_id(result_name, mode), as_dialog=is_htmx(),
                   context_limit=current_app.config["CODEX_PLAN_CONTEXT_LIMIT"],
                   history=_visible_history(finding) if finding else [], user_context="", error=None)
    context.update(extra)
    return render("plans/dialog.html", block="dialog", status=status, **context)


def _alert(message, status, retry_after=None):
    """A message for the dialog's alert region (htmx) or the dialog page (no JavaScript)."""
    response = render("plans/_alert.html", status=status, message=message)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.get("/dialog")
@login_required
def dialog():
    """Show a finding and the form that generates a plan for it."""
    mode, result_name = _mode(request.args.get("mode")), request.args.get("result", "")
    finding = _visible_finding(result_name)
    if finding is None:
        return _dialog_page(None, mode, result_name, status=404, gone=UNAVAILABLE_MESSAGE)
    return _dialog_page(finding, mode, result_name)


def _visible_finding(result_name):
    """The finding behind a Result if it exists and the user may see it, else None (no difference)."""
    try:
        finding = load_finding(gateway(), result_name)
    except FindingGone:
        return None
    return finding if current_access().allows(finding.namespace or None) else None


@bp.post("/runs")
@login_required
def create():
    """Start a plan: cheap checks first (input, limits, grant), then gather context and reserve."""
    form = request.form
    mode, result_name, raw_context = _mode(form.get("mode")), form.get("result", ""), form.get("context", "")
    limit = current_app.config["CODEX_PLAN_CONTEXT_LIMIT"]
    try:
        check_limits(current_user.id, current_app.config)  # a fast, optimistic count
        user_context = clean_user_context(raw_context, limit)
        finding = _visible_finding(result_name)
        if finding is None:
            return _form_error(result_name, mode, raw_context, UNAVAILABLE_MESSAGE, 404)
        gathered = live_context(current_reader(), finding, current_app.config["CODEX_PLAN_CONTEXT_BUDGET"])
        messages = build_messages(finding, mode, user_context, gathered, user_context_limit=limit)
        # The slot is taken atomically here, whatever ran concurrently since the fast count.
        run = reserve_run(current_user.id, current_app.config, result_name=result_name,
                          finding=finding, mode=mode, user_context=user_context,
                          model=model_client().settings.model, messages=messages,
                          context_kinds=gathered_kinds(finding, gathered))
    except PromptError as exc:
        return _form_error(result_name, mode, raw_context, str(exc), 422)
    except PlanLimitReached as exc:
        return _form_error(result_name, mode, raw_context, exc.message, 429, exc.retry_after)
    try:
        submit(run.id)  # a worker writes it now, whether or not a browser follows
    except Exception:  # noqa: BLE001 - the queue (Redis) cannot be reached: say so, hold no slot
        current_app.logger.warning("plan run %s could not be queued", run.id, exc_info=True)
        runs.finish_run(run.id, RunStatus.FAILED, "", QUEUE_DOWN)
        return _form_error(result_name, mode, raw_context, QUEUE_DOWN, 503, 5)
    if not is_htmx():
        return redirect(url_for("plans.show", run_id=run.id), 303)
    return render("plans/dialog.html", block="stream", run=run, dialog_id=_dialog_id(result_name, mode))


def _form_error(result_name, mode, raw_context, message, status, retry_after=None):
    if is_htmx():
        return _alert(message, status, retry_after)
    finding = _visible_finding(result_name)
    response = _dialog_page(finding, mode, result_name, status=status, user_context=raw_context,
                            error=message, gone=None if finding else UNAVAILABLE_MESSAGE)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _owned_run(run_id):
    run = db.session.get(PlanRun, run_id)
    if run is None or run.user_id != current_user.id:
        abort(404, "That plan does not exist or you may not see it.")
    return run


@bp.get("/runs/<int:run_id>/stream")
@login_required
def stream(run_id):
    """Follow the run's plan as server-sent events (its owner, in any number of tabs, from any
    replica); Last-Event-ID resumes exactly after what the browser already has."""
    run = _owned_run(run_id)
    allowed = _allowed_namespaces()
    granted = runs.readable_by(run, current_user, current_access())
    if not granted and run.status != RunStatus.STREAMING:
        # A finished plan is history: after a revoke even its owner may not replay it.
        abort(404, "That plan does not exist or you may not see it.")
    if not granted:  # the grant went while it was generating: end it (its worker stops), show nothing of it
        events = revoked(run_id, plan_bus(), allowed)
    else:
        events = follow(run_id, plan_bus(), allowed, request.headers.get("Last-Event-ID"),
                        readable=_still_readable(current_user.id))
    # A stream may last minutes: it holds no pooled connection between its short reads.
    db.session.close()
    return sse_response(events)


def _still_readable(user_id):
    """For a follower: may this user still read the run, with their grants as they are now?"""
    def readable(run):
        user = db.session.get(User, user_id)
        allowed = user is not None and runs.readable_by(run, user, access_for(user))
        db.session.close()
        return allowed
    return readable


@bp.post("/runs/<int:run_id>/stop")
@login_required
def stop(run_id):
    """Stop a generating plan (its owner only, from any replica); its worker ends it within a second."""
    run = _owned_run(run_id)
    message = "Stopping…" if run.status == RunStatus.STREAMING else "This plan has already ended."
    runs.request_stop(run, plan_bus())
    if not is_htmx():
        return redirect(url_for("plans.show", run_id=run_id), 303)
    return render("plans/_alert.html", message=message, level="info")


@bp.get("/runs/<int:run_id>")
@login_required
def show(run_id):
    """Show one run: the plan as rendered Markdown, its text to copy, status and timings."""
    run = readable_run_or_404(run_id)
    plan_html = render_plan(run.output_text, _allowed_namespaces(),
                            streaming=run.status == RunStatus.STREAMING)
    done = run.status == RunStatus.DONE
    # First: deciding the verification records it, and the history below must include it.
    followed = verification.current(run) if done else None
    return render("plans/run.html", block="run", run=run, plan_html=plan_html,
                  owner=run.user_id == current_user.id, actions_enabled=actions_enabled(current_app.config),
                  steps=plan_steps(run.output_text or "") if done else [],
                  step_history=records.by_step(run) if done else {},
                  step_approvals=approvals.of_run(run) if done else {},
                  approval_by_admin=approval_by_admin(current_app.config),
                  verification=followed)


@bp.get("/runs/<int:run_id>/prompt")
@login_required
def prompt(run_id):
    """Show administrators exactly what was sent to the model for a run."""
    if not is_admin(current_user):
        abort(404)
    run = db.session.get(PlanRun, run_id) or abort(404)
    return render("plans/prompt.html", block="prompt", run=run, messages=runs.messages_of(run))


@bp.get("/history")
@login_required
def history():
    """List the runs about one finding, for users who have its namespace."""
    kind, namespace, name = (request.args.get(key, "") for key in ("kind", "namespace", "name"))
    if not current_access().allows(namespace or None):
        abort(404, "That finding does not exist or you may not see it.")
    dialog_id = request.args.get("dialog", "")
    return render("plans/history.html", block="history", kind=kind, namespace=namespace, name=name,
                  dialog_id=dialog_id if DIALOG_ID.fullmatch(dialog_id) else "",
                  history=_visible_history_of(kind, namespace, name))
