"""Journey 9: a developer with a change grant acts on a finished plan in Chromium: runs its read-only
step, dry-runs its change (the API server's diff appears), confirms Apply, and the object really
changed in the lab; a step aimed at a namespace they may not change is refused beside it."""

import uuid

from playwright.sync_api import expect

from tests.browser.browser_helpers import seed_pod_plan, sign_in_local
from tests.support.lab_namespaces import lab_namespaces

PASSWORD = "act on it, carefully"
LABEL = {"codex-test": "act-journey"}


def _pod(name):
    return {"metadata": {"name": name, "labels": {**LABEL, "app": name}},
            "spec": {"automountServiceAccountToken": False,
                     "containers": [{"name": "web", "image": "registry.example/web:1.0"}]}}


def _plan(ns, other, label):
    return (f"1. See the pod:\n\n```bash\nkubectl get pods -n {ns}\n```\n\n"
            f"2. Mark it:\n\n```bash\nkubectl label pod web {label}=seen -n {ns}\n```\n\n"
            f"3. And elsewhere:\n\n```bash\nkubectl label pod web {label}=seen -n {other}\n```\n")


def test_a_developer_dry_runs_and_applies_a_step_as_themselves(sessions, app_server, kube):
    tag = uuid.uuid4().hex[:6]
    ns, other = f"codex-act-{tag}", f"codex-act-{tag}-b"
    label = f"codex-journey-{tag}"
    with lab_namespaces(kube, (ns, other), LABEL):
        for namespace in (ns, other):
            kube.create(f"/api/v1/namespaces/{namespace}/pods", _pod("web"))
        username, run_id = seed_pod_plan(app_server, ns, _plan(ns, other, label), "actor", PASSWORD)
        page = sessions.new_page("actor")
        sign_in_local(page, username, PASSWORD)
        page.goto(f"/plans/runs/{run_id}")
        steps = page.locator(".plan-step")
        expect(steps).to_have_count(3)

        # The read-only step runs as the developer; its output lands beside it.
        steps.nth(0).get_by_role("button", name="Run").click()
        expect(steps.nth(0).locator(".plan-step-output")).to_contain_text("web")

        # The change: a dry-run first, the server's diff, then Apply after a confirmation.
        step = steps.nth(1)
        expect(step.get_by_role("button", name="Apply")).to_have_count(0)
        step.get_by_role("button", name="Dry-run").click()
        expect(step.locator(".plan-step-diff")).to_contain_text(f"{label}: seen")
        pod_path = f"/api/v1/namespaces/{ns}/pods/web"
        assert label not in kube.get(pod_path)["metadata"].get("labels", {})
        page.once("dialog", lambda dialog: dialog.accept())
        step.get_by_role("button", name="Apply").click()
        expect(step.locator(".plan-step-outcome").last).to_contain_text("Applied as")
        assert kube.get(pod_path)["metadata"]["labels"][label] == "seen"
        # K8sGPT reports nothing about this pod, so the plan's finding reads as cleared at once.
        expect(page.locator(f"#plan-verification-{run_id}")).to_contain_text("Finding cleared at")

        # Reopened later, the run shows what was done to the step, by whom: dry-run, apply, verification.
        page.reload()
        history = steps.nth(1).locator(".plan-step-history li")
        expect(history).to_have_count(3)
        for entry, text in zip(history.all(), ("Dry-run · accepted", "Apply · accepted", "Verification · accepted")):
            expect(entry).to_contain_text(text)
            expect(entry).to_contain_text(f"by {username}")

        # The same change aimed at a namespace they may not change: refused, nothing started.
        steps.nth(2).get_by_role("button", name="Dry-run").click()
        expect(steps.nth(2).locator("[role=alert]")).to_be_visible()
        assert label not in kube.get(f"/api/v1/namespaces/{other}/pods/web")["metadata"].get("labels", {})
