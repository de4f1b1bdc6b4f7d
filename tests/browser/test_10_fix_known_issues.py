"""Journey 10: a developer fixes three known issues from the dashboard, and the plan sees them clear.

Copies of the not-ready, unschedulable and suspended-cronjob charts go into namespaces of their own.
A developer who may see what the plans read there, and change Deployments and CronJobs, signs in,
waits for K8sGPT to report each copy, generates a remediation plan from the finding's row, acts on it:
dry-runs its fix (the server's diff appears), confirms Apply. The objects really change in the lab;
K8sGPT drops each finding at its next analysis and the run says "Finding cleared"; reopened, each run
shows the step's dry-run, Apply and verification, by the developer.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from playwright.sync_api import expect

from tests.browser.browser_helpers import (
    close_plan_dialog, finding_row, generate_and_watch, namespace_of, open_plan_dialog, sign_in_local,
    wait_for_rows,
)
from tests.support.child_process import REPO
from tests.support.lab_control import labctl
from tests.support.lab_kube import RESULTS
from tests.support.lab_namespaces import lab_namespaces

PASSWORD = "fix it for real"
LABEL = {"codex-test": "fix-known-issues"}
CHARTS = REPO / "charts" / "known-issues"
APPEAR_TIMEOUT = 240  # kwok reports the copies' failures, K8sGPT analyses them (~10 s), the table polls
CLEAR_TIMEOUT = 180  # the new pods roll out, K8sGPT analyses again, the run page polls every 5 s
VIEW = {"pods", "deployments", "replicasets", "events", "services", "cronjobs", "jobs"}
CHANGE = {"deployments", "cronjobs"}
CONTEXT = "Nothing was changed here recently as far as we know."


@dataclass(frozen=True)
class Issue:
    """A known-issue chart, the finding its copy raises and how its plan's fix reads."""

    chart: str
    kind: str  # the finding's kind, as the dashboard shows it
    name_prefix: str
    fix: str  # text only the fix's command holds (not its undo)
    undo: str  # text only its undo holds, which Apply's confirmation names
    diff: re.Pattern  # a line the server's diff of the fix must show


ISSUES = (
    Issue("not-ready", "Pod", "checkout-", '"port": 80}', '"port": 8080}', re.compile(r"\+\s+port: 80\b")),
    Issue("unschedulable", "Pod", "gpu-trainer-", '"op": "remove"', '"op": "add"', re.compile(r"-\s+nodeSelector:")),
    Issue("suspended-cronjob", "CronJob", "nightly-report", '"suspend": false', '"suspend": true',
          re.compile(r"\+\s+suspend: false")),
)


def _developer(app_server, namespaces):
    """A developer who sees what the plans read in `namespaces` and may change Deployments and CronJobs."""
    from tests.support.users import add_user

    with app_server.in_process_app():
        username = f"fixer-{uuid.uuid4().hex[:6]}"
        add_user(username, id=random.randint(100_000, 2_000_000_000), password=PASSWORD,
                 grants={ns: VIEW for ns in namespaces}, changes={ns: CHANGE for ns in namespaces}, sync=True)
    return username


def _apply_the_fix(page, issue: Issue, namespace: str) -> tuple[int, str]:
    """From the finding's row: plan, act, dry-run the fix and apply it. Returns (run id, command)."""
    row = finding_row(page, issue.kind, issue.name_prefix).filter(
        has=page.locator("td:nth-child(2)", has_text=re.compile(rf"^{re.escape(namespace)}$"))).first
    dialog = open_plan_dialog(page, row, "remediation")
    watched = generate_and_watch(page, dialog, CONTEXT)
    assert watched["status"] == "done", watched["final"]

    dialog.get_by_role("link", name="Act on this plan").click()
    view = dialog.locator(".plan-run-view")
    expect(view.locator(".plan-step").first).to_be_visible()
    run_id = int(re.fullmatch(r"plan-run-view-(\d+)", view.get_attribute("id")).group(1))
    changing = view.locator(".plan-step").filter(
        has=page.locator(".badge", has_text=re.compile("^changes cluster$")))
    step = changing.filter(has=page.locator(".plan-step-command", has_text=issue.fix)).first
    expect(step).to_have_count(1)
    command = step.locator(".plan-step-command").inner_text().strip()
    assert f"-n {namespace} " in command, command

    expect(step.get_by_role("button", name="Apply", exact=True)).to_have_count(0)
    step.get_by_role("button", name="Dry-run").click()
    expect(step.locator(".plan-step-diff")).to_contain_text(issue.diff)
    confirmations = []

    def confirm(prompt):
        confirmations.append(prompt.message)
        prompt.accept()

    page.once("dialog", confirm)
    step.get_by_role("button", name="Apply", exact=True).click()
    expect(step.locator(".plan-step-outcome").last).to_contain_text("Applied as")
    assert confirmations and f"namespace {namespace}" in confirmations[0], confirmations
    assert command in confirmations[0] and issue.undo in confirmations[0], confirmations  # the undo is named
    expect(dialog.locator(f"#plan-verification-{run_id}")).to_contain_text(
        re.compile("Verifying|Finding cleared at"))
    close_plan_dialog(page, dialog)
    return run_id, command


def _lab_shows_the_fixes(kube, namespaces):
    """What each fix changed, read back from the lab as its administrator."""
    probe = kube.get(f"/apis/apps/v1/namespaces/{namespaces['not-ready']}/deployments/checkout")
    container = probe["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["port"] == 80, container
    trainer = kube.get(f"/apis/apps/v1/namespaces/{namespaces['unschedulable']}/deployments/gpu-trainer")
    assert "nodeSelector" not in trainer["spec"]["template"]["spec"], trainer["spec"]["template"]["spec"]
    cronjob = kube.get(f"/apis/batch/v1/namespaces/{namespaces['suspended-cronjob']}/cronjobs/nightly-report")
    assert cronjob["spec"]["suspend"] is False, cronjob["spec"]


@contextmanager
def _chart_copies(kube, namespaces: dict[str, str]):
    """Each chart installed (release = chart name) into its own test-made namespace; at exit the
    releases uninstalled, the namespaces deleted and K8sGPT's Results about them dropped."""
    lab = labctl()
    try:
        with lab_namespaces(kube, tuple(namespaces.values()), LABEL):
            try:
                for chart, namespace in namespaces.items():
                    lab.helm("upgrade", "--install", chart, str(CHARTS / chart), "--namespace", namespace,
                             "--timeout", "2m")
                yield
            finally:
                for chart, namespace in namespaces.items():
                    lab.helm("uninstall", chart, "--namespace", namespace, "--timeout", "2m", check=False)
    finally:  # K8sGPT's next pass would drop them too, once the objects are gone
        for result in kube.results():
            if namespace_of(result) in namespaces.values():
                kube.delete(f"{RESULTS}/{result['metadata']['name']}")


def test_a_developer_fixes_three_known_issues_and_sees_them_clear(sessions, app_server, kube):
    tag = uuid.uuid4().hex[:6]
    namespaces = {issue.chart: f"codex-fix-{tag}-{issue.chart}" for issue in ISSUES}
    with _chart_copies(kube, namespaces):
        username = _developer(app_server, namespaces.values())
        page = sessions.new_page("fixer")
        sign_in_local(page, username, PASSWORD)
        page.goto("/")
        expect(page.get_by_role("heading", name="Issues", exact=True)).to_be_visible()

        def every_copy_reported(rows):
            return all(any(k == issue.kind and ns == namespaces[issue.chart] and n.startswith(issue.name_prefix)
                           for k, ns, n in rows) for issue in ISSUES)

        wait_for_rows(page, every_copy_reported, "a finding about each copy", timeout=APPEAR_TIMEOUT)

        # All three fixes first, so the rollouts and K8sGPT's analyses overlap.
        applied = {issue.chart: _apply_the_fix(page, issue, namespaces[issue.chart]) for issue in ISSUES}
        _lab_shows_the_fixes(kube, namespaces)

        deadline = time.monotonic() + CLEAR_TIMEOUT
        for issue in ISSUES:
            run_id, command = applied[issue.chart]
            page.goto(f"/plans/runs/{run_id}")
            left = max(deadline - time.monotonic(), 5)
            expect(page.locator(f"#plan-verification-{run_id}")).to_contain_text(
                "Finding cleared at", timeout=left * 1000)

            # Reopened later, the run shows what was done to the step, by whom.
            page.reload()
            step = page.locator(".plan-step").filter(
                has=page.locator(".plan-step-command", has_text=command)).first
            history = step.locator(".plan-step-history li")
            expect(history).to_have_count(3)
            done = ("Dry-run · accepted", "Apply · accepted", "Verification · accepted")
            for entry, text in zip(history.all(), done):
                expect(entry).to_contain_text(text)
                expect(entry).to_contain_text(f"by {username}")
