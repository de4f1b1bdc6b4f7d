"""Journey 11: four eyes (CODEX_APPROVAL=admin). On a server where an administrator approves every
Apply, a developer dry-runs a step of their plan and requests approval instead of applying it; an
administrator, in another browser, approves it on the admin page and the change is applied as the
developer, while the developer's open page shows it without a reload. A second request is rejected
and changes nothing."""

from __future__ import annotations

import sys
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.browser_helpers import seed_pod_plan, sign_in_local
from tests.support.app_server import AppServer
from tests.support.lab_control import wait_for
from tests.support.lab_namespaces import lab_namespaces

PASSWORD = "four eyes see more"
LABEL = {"codex-test": "approval-journey"}
LIVE_TIMEOUT = 20_000  # ms; a pending request's state is polled every 5 s


@pytest.fixture(scope="module")
def approval_server(suite_clock, known_issues, planner, tmp_path_factory):
    """A second app, like `app_server` but with CODEX_APPROVAL=admin: its own database and admin."""
    server = AppServer(kubeconfig=known_issues.app_kubeconfig, llm_base_url=planner.base_url,
                       extra_env={"CODEX_APPROVAL": "admin"},
                       workdir=tmp_path_factory.mktemp("approval-server"))
    server.prepare_database()
    server.admin_password = server.seed_admin("admin")
    with server:
        yield server


@pytest.fixture
def approval_log(request, approval_server):
    """On failure, the approval server's log tail (the sessions fixture saves the main server's)."""
    yield
    call = getattr(request.node, "rep_call", None)
    if call is not None and call.failed:
        sys.stderr.write(f"\napproval server log: {approval_server.log_path}\n"
                         f"{approval_server.log_tail(40, skip='GET /static/')}\n")


def page_on(sessions, server: AppServer, label: str):
    """A page from `sessions` (CSP watch, artifacts on failure) whose relative URLs go to `server`."""
    args = sessions.context_args
    sessions.context_args = {**args, "base_url": server.url}
    try:
        return sessions.new_page(label)
    finally:
        sessions.context_args = args


def _pod(name):
    return {"metadata": {"name": name, "labels": {**LABEL, "app": name}},
            "spec": {"automountServiceAccountToken": False,
                     "containers": [{"name": "web", "image": "registry.example/web:1.0"}]}}


def _ready(pod) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _plan(ns, label):
    return (f"1. Mark the pod as approved:\n\n```bash\nkubectl label pod web {label}=approved -n {ns}\n```\n\n"
            f"2. Or mark it otherwise:\n\n```bash\nkubectl label pod web {label}-other=rejected -n {ns}\n```\n")


def _step(page, command_part):
    return page.locator(".plan-step").filter(has=page.locator(".plan-step-command", has_text=command_part)).first


def _request_approval(step, change):
    """Dry-run the step, see the server's diff, and ask for approval (Apply is not offered)."""
    step.get_by_role("button", name="Dry-run").click()
    expect(step.locator(".plan-step-diff")).to_contain_text(change)
    expect(step.get_by_role("button", name="Apply", exact=True)).to_have_count(0)
    step.get_by_role("button", name="Request approval").click()
    expect(step.locator(".plan-step-outcome").last).to_contain_text("Approval requested")
    expect(step.locator(".plan-approval")).to_contain_text("Awaiting approval")


def _expect_history(step, username, entries):
    """The step's history lists `entries` in order, each done by `username`."""
    history = step.locator(".plan-step-history li")
    expect(history).to_have_count(len(entries))
    for entry, text in zip(history.all(), entries):
        expect(entry).to_contain_text(text)
        expect(entry).to_contain_text(f"by {username}")


def test_an_administrator_approves_one_request_and_rejects_another(sessions, approval_server, approval_log, kube):
    tag = uuid.uuid4().hex[:6]
    ns, label = f"codex-approve-{tag}", f"codex-approval-{tag}"
    approved, rejected = f"{label}=approved", f"{label}-other=rejected"
    pod_path = f"/api/v1/namespaces/{ns}/pods/web"
    with lab_namespaces(kube, (ns,), LABEL):
        kube.create(f"/api/v1/namespaces/{ns}/pods", _pod("web"))
        # A pod still starting changes under the dry-run, and an approval refuses a changed object.
        wait_for("pod web to be Ready", lambda: _ready(kube.get(pod_path)), timeout=60)
        username, run_id = seed_pod_plan(approval_server, ns, _plan(ns, label), "asker", PASSWORD)

        # The developer dry-runs both steps and requests approval for each.
        developer = page_on(sessions, approval_server, "developer")
        sign_in_local(developer, username, PASSWORD)
        developer.goto(f"/plans/runs/{run_id}")
        expect(developer.locator(".plan-steps")).to_contain_text("an administrator approves it")
        to_approve, to_reject = _step(developer, approved), _step(developer, rejected)
        _request_approval(to_approve, f"{label}: approved")
        _request_approval(to_reject, f"{label}-other: rejected")
        assert label not in kube.get(pod_path)["metadata"]["labels"]
        developer.evaluate("window.codexNoReload = 'still the same page'")

        # The administrator, in another browser, sees both requests: command, change and requester.
        admin = page_on(sessions, approval_server, "admin")
        sign_in_local(admin, "admin", approval_server.admin_password)
        admin.goto("/admin/approvals")
        rows = admin.locator("table.approvals tbody tr")
        approve_row = rows.filter(has_text=approved)
        reject_row = rows.filter(has_text=rejected)
        for row, change in ((approve_row, f"{label}: approved"), (reject_row, f"{label}-other: rejected")):
            expect(row).to_have_count(1)
            expect(row.locator(".plan-step-command")).to_contain_text("kubectl label pod web")
            expect(row.locator(".plan-step-diff")).to_contain_text(change)
            expect(row.locator("td").nth(1)).to_have_text(username)
            expect(row.locator("td").nth(2)).to_contain_text(f"Pod {ns}/web")

        confirmations = []

        def confirm(prompt):
            confirmations.append(prompt.message)
            prompt.accept()

        admin.once("dialog", confirm)
        approve_row.get_by_role("button", name="Approve").click()
        expect(approve_row).to_contain_text("Approved by admin")
        assert confirmations and f"apply as {username}" in confirmations[0], confirmations
        assert kube.get(pod_path)["metadata"]["labels"][label] == "approved"

        reject_row.get_by_role("button", name="Reject").click()
        expect(reject_row).to_contain_text("Rejected by admin.")
        assert f"{label}-other" not in kube.get(pod_path)["metadata"]["labels"]
        admin.reload()
        expect(admin.get_by_text("No request is waiting for approval.")).to_be_visible()

        # The developer's open page follows both decisions by itself.
        expect(to_approve.locator(".plan-approval")).to_contain_text("Approved and applied", timeout=LIVE_TIMEOUT)
        expect(to_approve.locator(".plan-approval")).to_contain_text(f"Approved by admin and applied as {username}.")
        expect(to_reject.locator(".plan-approval")).to_contain_text("Rejected", timeout=LIVE_TIMEOUT)
        # Once applied, the same page follows the finding: K8sGPT reports nothing about this pod.
        expect(developer.locator(f"#plan-verification-{run_id}")).to_contain_text("Finding cleared at",
                                                                                   timeout=LIVE_TIMEOUT)
        assert developer.evaluate("window.codexNoReload") == "still the same page", "the page was reloaded"

        # Reopened, each step's history says what was done, by whom: the approval's new dry-run and its
        # Apply are the developer's.
        developer.reload()
        expect(developer.locator(f"#plan-verification-{run_id}")).to_contain_text("Finding cleared at")
        _expect_history(to_approve, username, ["Dry-run · accepted", "Request approval · accepted",
                                               "Dry-run · accepted", "Apply · accepted", "Verification · accepted"])
        expect(to_approve.locator(".plan-step-history li").nth(3)).to_contain_text("approved by admin")
        expect(to_approve.locator(".plan-approval")).to_contain_text("Approved and applied")
        _expect_history(to_reject, username, ["Dry-run · accepted", "Request approval · accepted"])
        expect(to_reject.locator(".plan-approval")).to_contain_text("Rejected by admin.")

