"""The offline planner writes a runbook for each failure class, naming the real objects."""

import pytest

from app.plans.core.commands import extract_commands
from app.plans.core.context import gather_context
from app.findings import Finding
from app.plans.core.prompts import build_messages
from tests.plans_core.planning_helpers import collect, messages_for
from tests.plans_core.planning_samples import CASES

EXPECTED = {
    "crash_loop": ["crash loop", "ghcr.io/acme/checkout:2.3.0", "exited with code 1",
                   "kubectl -n team-a logs pod/checkout-7d9f8c6b5-x2x9q -c checkout --previous --tail=50",
                   "kubectl -n team-a rollout undo deployment/checkout", "PAYMENT_GATEWAY_URL is missing"],
    "image_pull": ["image cannot be pulled", "registry.example.com/acme/web:v9.9.9-typo", "container `web`",
                   "kubectl -n team-b rollout undo deployment/web"],
    "oom": ["OOMKilled", "container `worker`", "64Mi → 128Mi",
            "kubectl -n team-c set resources deployment/report-worker -c worker --limits=memory=128Mi",
            "kubectl -n team-c set resources deployment/report-worker -c worker --limits=memory=64Mi"],
    "pvc_pending": ["PVC stuck Pending", "`fast-ssd`", "kubectl get storageclass",
                    "kubectl -n team-a delete pvc data-ledger-0"],
    "service_no_endpoints": ["Service without endpoints", "`app=payments-api`",
                             "kubectl -n team-b patch service payments --type=json",
                             '"value": {"app": "payments-api"}'],
    "ingress_backend_missing": ["Ingress backend Service missing", "kubectl -n team-c get service shop-api",
                                "/spec/rules/0/http/paths/1/backend/service/name", "patch ingress shop"],
    "cronjob_schedule": ["invalid CronJob schedule", "`0 0 2 * * *`", "Set a valid schedule (`0 2 * * *`)",
                         "kubectl -n team-a patch cronjob nightly-report --type=merge"],
    "unschedulable": ["cannot be scheduled", "container `trainer`", "enough free cpu",
                      "kubectl -n team-b set resources deployment/trainer -c trainer --requests=cpu=32000m"],
    "general": ["kubectl -n team-c describe configmap/feature-flags", "Nothing safe can be changed right now"],
}


@pytest.fixture(params=sorted(CASES))
def case(request):
    return request.param, CASES[request.param]


def test_remediation_names_the_object_and_gives_working_commands(model, case):
    name, build = case
    finding, messages = messages_for(build, "remediation", "we deployed ten minutes ago")
    plan = "".join(collect(model, messages)[0])
    assert plan.startswith(f"# Remediation plan")
    assert f"`{finding.namespace}/{finding.name}`" in plan
    assert "we deployed ten minutes ago" in plan
    for expected in EXPECTED[name]:
        assert expected in plan
    commands = extract_commands(plan)
    assert commands, "a remediation plan gives commands"
    assert {ns for c in commands for ns in c.namespaces} == {finding.namespace}
    assert "### 1." in plan and "**What it changes:**" in plan and "**What to look for:**" in plan
    if any(c.changes_cluster for c in commands):
        assert "**How to verify:**" in plan and "**How to undo:**" in plan


def test_root_cause_plan_is_a_different_document(model, case):
    _, build = case
    finding, remediation_messages = messages_for(build, "remediation")
    _, root_cause_messages = messages_for(build, "root_cause")
    remediation = "".join(collect(model, remediation_messages)[0])
    root_cause = "".join(collect(model, root_cause_messages)[0])
    assert root_cause.startswith("# Root-cause plan")
    for heading in ("## Why it happened", "## How to reproduce", "## Upstream change", "## Prevention"):
        assert heading in root_cause
    assert "### 1." not in root_cause
    assert finding.name in root_cause and finding.namespace in root_cause
    assert root_cause != remediation


def test_root_cause_names_image_and_chart_change(model):
    _, messages = messages_for(CASES["crash_loop"], "root_cause")
    plan = "".join(collect(model, messages)[0])
    assert "ghcr.io/acme/checkout:2.3.0" in plan
    assert "Helm release `checkout` owns this object" in plan
    assert 'reason="CrashLoopBackOff",namespace="team-a"' in plan


def test_masked_names_in_errors_do_not_mislead_the_planner(model):
    result, gateway = CASES["ingress_backend_missing"]()
    result["spec"]["error"][0]["sensitive"] = [{"unmasked": "shop-api", "masked": "c2hvcC1hcGk"}]
    finding = Finding.from_result(result)
    plan = "".join(collect(model, build_messages(finding, "remediation", "", gather_context(gateway, finding)))[0])
    assert "c2hvcC1hcGk" in finding.errors[0]
    assert "routes to several Services" in plan
    assert "kubectl -n team-c get service storefront shop-api" in plan
    assert "- `shop-api` → `/spec/rules/0/http/paths/1/backend/service/name`" in plan
