"""Four eyes (CODEX_APPROVAL=admin) against the lab: after an accepted dry-run the owner requests
approval instead of applying; an administrator sees the request on /admin/approvals and approves
it (dry-run again and applied as the requester) or rejects it; requests expire; nobody approves
their own request; the run page shows each request's state."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from kubernetes import client as k8s

from app.cluster.rbac_sync import sync_user
from app.extensions import db
from app.models import ApprovalRequest, AuditEvent, Grant, PlanAction

pytestmark = pytest.mark.plan_config(CODEX_APPROVAL="admin")

APPROVALS = "/admin/approvals"


def _step_url(run_id, what, index=1):
    return f"/plans/runs/{run_id}/steps/{index}/{what}"


def _text(response):
    return response.get_data(as_text=True)


def _requested(client, run_id):
    """Dry-run step 1 and request its approval; the request's id."""
    dry = client.submit(_step_url(run_id, "dry-run"), htmx=True)
    assert dry.status_code == 200, _text(dry)
    assert _step_url(run_id, "request") in _text(dry) and _step_url(run_id, "apply") not in _text(dry)
    requested = client.submit(_step_url(run_id, "request"), htmx=True)
    assert requested.status_code == 200, _text(requested)
    assert "Awaiting approval" in _text(requested) and 'hx-trigger="every 5s"' in _text(requested)
    return int(_text(requested).split('id="plan-approval-')[1].split('"')[0])


def _decide(client, request_id, decision, htmx=True):
    return client.submit(f"{APPROVALS}/{request_id}/{decision}", htmx=htmx)


@pytest.fixture
def boss(make_user, login):
    """An administrator (not the plan's owner)."""
    user_id = make_user("boss", {}, admin=True)
    client = login("boss")
    client.user_id = user_id
    return client


def _label(kube, world):
    return kube.get(f"/api/v1/namespaces/{world['ns_a']}/pods/api-0")["metadata"].get("labels", {})


def _request_row(app, request_id):
    with app.app_context():
        request = db.session.get(ApprovalRequest, request_id)
        db.session.expunge(request)
        return request


def test_with_approval_on_the_owner_may_not_apply_themself(finished_run, changer):
    run_id = finished_run(changer.user_id)
    assert changer.submit(_step_url(run_id, "dry-run"), htmx=True).status_code == 200
    applied = changer.submit(_step_url(run_id, "apply"), htmx=True)
    assert applied.status_code == 403 and "needs an administrator" in _text(applied)


def test_an_approved_request_is_dry_run_again_and_applied_as_the_requester(app, finished_run, changer, boss,
                                                                          kube, world):
    run_id = finished_run(changer.user_id)
    request_id = _requested(changer, run_id)
    assert finished_run.label not in _label(kube, world)
    page = _text(boss.get(APPROVALS))
    assert f"+    {finished_run.label}: seen" in page  # the dry-run's change
    assert "changer" in page and f"Pod {world['ns_a']}/api-0" in page and "kubectl label pod api-0" in page
    approved = _decide(boss, request_id, "approve")
    assert approved.status_code == 200, _text(approved)
    assert "<html" not in _text(approved) and "Approved by boss" in _text(approved)
    assert _label(kube, world)[finished_run.label] == "seen"
    with app.app_context():
        rows = db.session.scalars(sa.select(PlanAction).where(PlanAction.run_id == run_id)
                                  .order_by(PlanAction.id)).all()
        assert [r.action for r in rows] == ["dry-run", "request", "dry-run", "apply"]
        assert {r.user_id for r in rows} == {changer.user_id}  # in the requester's name
        assert str(changer.user_id) in rows[-1].identity and rows[-1].status == "accepted"
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "approval.approve",
                                                             AuditEvent.actor_id == boss.user_id))
    run_page = _text(changer.get(f"/plans/runs/{run_id}"))
    assert "Approved and applied" in run_page and "decided by boss" in run_page
    assert f"plan-approval-{request_id}" in run_page and 'hx-trigger="every 5s"' not in run_page.split(
        f"plan-approval-{request_id}")[1].split("</div>")[0]
    assert "No request is waiting" in _text(boss.get(APPROVALS))


def test_a_rejected_request_changes_nothing(app, finished_run, changer, boss, kube, world):
    run_id = finished_run(changer.user_id)
    request_id = _requested(changer, run_id)
    rejected = _decide(boss, request_id, "reject")
    assert rejected.status_code == 200 and "Rejected by boss" in _text(rejected)
    assert finished_run.label not in _label(kube, world)
    assert _request_row(app, request_id).state == "rejected"
    assert "Rejected" in _text(changer.get(f"/plans/runs/{run_id}"))
    assert _decide(boss, request_id, "approve").status_code == 409  # decided already


def test_the_requester_may_cancel_a_pending_request_and_nobody_else(app, finished_run, changer, boss, kube,
                                                                    world):
    run_id = finished_run(changer.user_id)
    request_id = _requested(changer, run_id)
    cancel = f"/plans/runs/{run_id}/approvals/{request_id}/cancel"
    assert "Cancel request" in _text(changer.get(f"/plans/runs/{run_id}"))
    assert "Cancel request" not in _text(boss.get(f"/plans/runs/{run_id}"))
    assert boss.submit(cancel, htmx=True).status_code == 403  # an administrator approves or rejects instead
    assert changer.post(cancel, headers={"HX-Request": "true"}).status_code == 400  # no CSRF token
    cancelled = changer.submit(cancel, htmx=True)
    assert cancelled.status_code == 200 and "Cancelled by changer; nothing was applied." in _text(cancelled)
    assert "<html" not in _text(cancelled) and "Cancel request" not in _text(cancelled)
    assert _request_row(app, request_id).state == "cancelled"
    assert request_id not in [int(s.split('"')[0]) for s in _text(boss.get(APPROVALS)).split("/admin/approvals/")[1:]]
    assert _decide(boss, request_id, "approve").status_code == 409
    assert changer.submit(cancel, htmx=True).status_code == 409  # cancelled already
    assert finished_run.label not in _label(kube, world)
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "approval.cancel",
                                                              AuditEvent.actor_id == changer.user_id)) is not None


@pytest.mark.plan_config(CODEX_APPROVAL="admin", CODEX_APPROVAL_EXPIRES_AFTER=0)
def test_an_expired_request_cannot_be_approved(app, finished_run, changer, boss, kube, world):
    run_id = finished_run(changer.user_id)
    dry = changer.submit(_step_url(run_id, "dry-run"), htmx=True)
    assert dry.status_code == 200
    request_id = int(_text(changer.submit(_step_url(run_id, "request"), htmx=True))
                     .split('id="plan-approval-')[1].split('"')[0])
    assert "No request is waiting" in _text(boss.get(APPROVALS))
    assert _decide(boss, request_id, "approve").status_code == 409
    assert finished_run.label not in _label(kube, world)
    assert _request_row(app, request_id).state == "expired"
    assert "Expired" in _text(changer.get(f"/plans/runs/{run_id}"))
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "approval.expire"))


def test_a_requester_who_lost_the_change_grant_is_not_applied(app, finished_run, changer, boss, kube, world):
    run_id = finished_run(changer.user_id)
    request_id = _requested(changer, run_id)
    with app.app_context():
        grant = db.session.scalar(sa.select(Grant).where(Grant.user_id == changer.user_id))
        grant.change_kinds_csv = ""
        db.session.commit()
        sync_user(grant.user)
    approved = _decide(boss, request_id, "approve")
    assert approved.status_code == 403, _text(approved)
    assert "no change grant" in _text(approved) and 'role="alert"' in _text(approved)
    assert finished_run.label not in _label(kube, world)
    assert _request_row(app, request_id).state == "failed"


def test_an_object_changed_since_the_dry_run_is_not_applied(app, finished_run, changer, boss, kube, world):
    run_id = finished_run(changer.user_id)
    request_id = _requested(changer, run_id)
    k8s.CoreV1Api(kube.admin()).patch_namespaced_pod(
        "api-0", world["ns_a"], {"metadata": {"annotations": {finished_run.label: "moved"}}})
    approved = _decide(boss, request_id, "approve")
    assert approved.status_code == 409 and "object changed" in _text(approved)
    assert finished_run.label not in _label(kube, world)
    assert _request_row(app, request_id).state == "failed"
    assert "Approved, not applied" in _text(changer.get(f"/plans/runs/{run_id}"))


def test_an_administrator_may_not_approve_their_own_request(app, finished_run, boss, kube, world):
    run_id = finished_run(boss.user_id)
    request_id = _requested(boss, run_id)
    refused = _decide(boss, request_id, "approve")
    assert refused.status_code == 403 and "Four eyes" in _text(refused)
    assert finished_run.label not in _label(kube, world)
    assert _request_row(app, request_id).state == "pending"


def test_non_administrators_neither_see_nor_decide_requests(finished_run, changer):
    run_id = finished_run(changer.user_id)
    request_id = _requested(changer, run_id)
    assert changer.get(APPROVALS).status_code == 403
    assert _decide(changer, request_id, "approve").status_code == 403


def test_decisions_need_the_csrf_token_and_work_without_javascript(app, finished_run, changer, boss):
    run_id = finished_run(changer.user_id)
    request_id = _requested(changer, run_id)
    assert boss.post(f"{APPROVALS}/{request_id}/reject").status_code == 400
    response = _decide(boss, request_id, "reject", htmx=False)
    assert response.status_code == 303 and response.headers["Location"].endswith(APPROVALS)
    assert "Rejected by boss" in _text(boss.get(APPROVALS))  # the flash
    assert _request_row(app, request_id).state == "rejected"


@pytest.mark.plan_config(CODEX_APPROVAL="self")
def test_without_approval_there_is_nothing_to_request(finished_run, changer):
    run_id = finished_run(changer.user_id)
    assert changer.submit(_step_url(run_id, "dry-run"), htmx=True).status_code == 200
    assert changer.submit(_step_url(run_id, "request"), htmx=True).status_code == 422
