"""The offline planner writes a runbook for each failure class, naming the real objects, and every
command it writes is one the app runs: accepted by the strict step parser, each change followed by
the command that undoes it, facts (replicas, labels, images) taken from the prompt, never made up."""

import re

import pytest

from app.findings import Finding
from app.kinds import KINDS, resolve_alias
from app.plans.core.commands import extract_commands
from app.plans.core.context import gather_context
from app.plans.core.kubectl import Refusal, parse_step
from app.plans.core.plan_steps import plan_steps
from app.plans.core.prompts import build_messages
from offline_planner.common import CLASSES, STEP_KINDS, classify
from offline_planner.facts import read_facts
from tests.plans_core.planning_helpers import collect, messages_for
from tests.plans_core.planning_samples import CASES, SampleGateway, deployment, event, meta, pod, replicaset


def not_ready():
    """team-c/checkout: nginx listens on 80, its readiness probe asks 8080 (the lab's not-ready chart)."""
    containers = [{"name": "checkout", "image": "docker.io/library/nginx:1.27-alpine",
                   "ports": [{"containerPort": 80, "protocol": "TCP"}],
                   "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10}}]
    deploy = deployment("checkout", "team-c", "docker.io/library/nginx:1.27-alpine", containers)
    deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "1"
    p = pod(replicaset(deploy), "r3ady", {"phase": "Running", "containerStatuses": [
        {"name": "checkout", "ready": False, "restartCount": 0, "state": {"running": {}}}]})
    message = "Readiness probe failed: Get \"http://10.244.0.12:8080/healthz\": connect: connection refused"
    result = {"spec": {"kind": "Pod", "name": f"team-c/{p['metadata']['name']}", "error": [{"text": message}]}}
    return result, SampleGateway([deploy, replicaset(deploy), p], events={
        ("Pod", p["metadata"]["name"]): [event("Unhealthy", message, "2026-11-26T11:06:00Z", count=40)]})


def cronjob_suspended():
    cj = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta("nightly-report", "team-c"),
          "spec": {"schedule": "30 2 * * *", "suspend": True, "jobTemplate": {"spec": {"template": {"spec": {
              "restartPolicy": "OnFailure", "containers": [{"name": "report", "image": "busybox:1.36"}]}}}}}}
    result = {"spec": {"kind": "CronJob", "name": "team-c/nightly-report",
                       "error": [{"text": "CronJob bmlnaHRseS1yZXBvcnQ= is suspended"}]}}
    return result, SampleGateway([cj])


def unavailable():
    """team-a/bad-image as the lab has it: a first revision whose only pod never became available."""
    deploy = deployment("bad-image", "team-a", "docker.io/library/nginx:0.0.0-does-not-exist")
    deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "1"
    deploy["status"] = {"replicas": 2, "unavailableReplicas": 2, "conditions": [
        {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
         "message": "Deployment does not have minimum availability."}]}
    result = {"spec": {"kind": "Deployment", "name": "team-a/bad-image",
                       "error": [{"text": "Deployment YmFkLWltYWdl has 2 replicas but 0 are available with status "
                                          "running"}]}}
    return result, SampleGateway([deploy])


def job_failed():
    """team-b/nightly-export as eval/charts/job-backoff has it: each pod OOM-killed, past its backoff limit."""
    uid = "0f9c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f"
    auto = {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "nightly-export",
            "controller-uid": uid, "job-name": "nightly-export"}
    template = {"metadata": {"labels": {"app": "nightly-export", **auto}}, "spec": {
        "restartPolicy": "Never", "containers": [{"name": "export", "image": "ghcr.io/acme/export:2.0.1",
                                                  "resources": {"limits": {"memory": "256Mi"}}}]}}
    job = {"apiVersion": "batch/v1", "kind": "Job",
           "metadata": meta("nightly-export", "team-b", labels={"app": "nightly-export", **auto},
                            annotations={"meta.helm.sh/release-name": "job-backoff"}),
           "spec": {"backoffLimit": 1, "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}},
                    "template": template},
           "status": {"failed": 2, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                                                   "message": "Job has reached the specified backoff limit"}]}}
    failed = {"apiVersion": "v1", "kind": "Pod",
              "metadata": meta("nightly-export-x7k2p", "team-b", labels=dict(template["metadata"]["labels"]),
                               ownerReferences=[{"apiVersion": "batch/v1", "kind": "Job", "controller": True,
                                                 "name": "nightly-export", "uid": uid}]),
              "spec": template["spec"],
              "status": {"phase": "Failed", "containerStatuses": [{"name": "export", "ready": False, "restartCount": 0,
                         "state": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}}
    result = {"spec": {"kind": "Job", "name": "team-b/nightly-export",
                       "error": [{"text": "Job has reached the specified backoff limit"}]}}
    return result, SampleGateway([job, failed], logs={
        ("nightly-export-x7k2p", "export", False): "loading 700 MiB of orders into memory\n"})


def config_error():
    """team-a/orders as eval/charts/missing-config-key has it: env takes a key renamed in the ConfigMap."""
    env = [{"name": "DATABASE_HOST", "valueFrom": {"configMapKeyRef": {"name": "orders-config", "key": "DATABASE_HOST"}}}]
    deploy = deployment("orders", "team-a", "ghcr.io/acme/orders:5.2.0",
                        [{"name": "orders", "image": "ghcr.io/acme/orders:5.2.0", "env": env}])
    message = "couldn't find key DATABASE_HOST in ConfigMap team-a/orders-config"
    p = pod(replicaset(deploy), "c0nf1", {"phase": "Pending", "containerStatuses": [
        {"name": "orders", "ready": False, "restartCount": 0,
         "state": {"waiting": {"reason": "CreateContainerConfigError", "message": message}}}]})
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("orders-config", "team-a"),
                  "data": {"database-host": "orders-db.team-a.svc", "log-level": "info"}}
    result = {"spec": {"kind": "Pod", "name": f"team-a/{p['metadata']['name']}", "error": [{"text": message}]}}
    return result, SampleGateway([deploy, replicaset(deploy), p, config_map])


def hpa_target_missing():
    """team-b/inventory as eval/charts/hpa-missing-target has it: its Deployment was renamed inventory-api."""
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta("inventory", "team-b"),
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "inventory"},
                    "minReplicas": 1, "maxReplicas": 4}}
    result = {"spec": {"kind": "HorizontalPodAutoscaler", "name": "team-b/inventory", "error": [
        {"text": "HorizontalPodAutoscaler uses Deployment/inventory as ScaleTargetRef which does not exist."}]}}
    return result, SampleGateway([hpa, deployment("inventory-api", "team-b", "ghcr.io/acme/inventory:3.0.0"),
                                  deployment("billing", "team-b", "ghcr.io/acme/billing:1.0.0")])


SAMPLES = {**CASES, "not_ready": not_ready, "cronjob_suspended": cronjob_suspended, "unavailable": unavailable,
           "job_failed": job_failed, "config_error": config_error, "hpa_target_missing": hpa_target_missing}

EXPECTED = {
    "crash_loop": ["crash loop", "ghcr.io/acme/checkout:2.3.0", "exited with code 1",
                   "kubectl -n team-a logs pod/checkout-7d9f8c6b5-x2x9q -c checkout --previous --tail=50",
                   "kubectl -n team-a rollout undo deployment/checkout", "PAYMENT_GATEWAY_URL is missing",
                   "kubectl -n team-a set image deployment/checkout checkout=ghcr.io/acme/checkout:2.3.0"],
    "image_pull": ["image cannot be pulled", "registry.example.com/acme/web:v9.9.9-typo", "container `web`",
                   "kubectl -n team-b rollout undo deployment/web",
                   "kubectl -n team-b set image deployment/web web=registry.example.com/acme/web:v9.9.9-typo"],
    "oom": ["OOMKilled", "container `worker`", "64Mi → 128Mi",
            "kubectl -n team-c set resources deployment/report-worker -c worker --limits=memory=128Mi",
            "kubectl -n team-c set resources deployment/report-worker -c worker --limits=memory=64Mi"],
    "pvc_pending": ["PVC stuck Pending", "`fast-ssd`", "kubectl -n team-a describe pvc data-ledger-0",
                    "kubectl -n team-a get pvc data-ledger-0 -o yaml", "never bound a volume",
                    "kubectl -n team-a delete pvc data-ledger-0", "kubectl -n team-a apply -f -",
                    "ask your platform team which storage class to use"],
    "service_no_endpoints": ["Service without endpoints", "`app=payments-api`",
                             "kubectl -n team-b describe service payments", "kubectl -n team-b get pods --show-labels",
                             "nothing safe can be changed right now"],
    "ingress_backend_missing": ["Ingress backend Service missing",
                                "kubectl -n team-c get service shop-api --ignore-not-found",
                                "kubectl -n team-c get services", "as `service/<name>`"],
    "cronjob_schedule": ["invalid CronJob schedule", "`0 0 2 * * *`", "Set a valid schedule (`0 2 * * *`)",
                         "kubectl -n team-a patch cronjob nightly-report --type=merge -p '{\"spec\": {\"schedule\": "
                         "\"0 2 * * *\"}}'",
                         "kubectl -n team-a patch cronjob nightly-report --type=merge -p '{\"spec\": {\"schedule\": "
                         "\"0 0 2 * * *\"}}'"],
    "unschedulable": ["cannot be scheduled", "container `trainer`", "enough free cpu",
                      "kubectl -n team-b set resources deployment/trainer -c trainer --requests=cpu=32000m",
                      "kubectl -n team-b set resources deployment/trainer -c trainer --requests=cpu=64"],
    "general": ["kubectl -n team-c describe configmap/feature-flags", "Nothing safe can be changed right now"],
    "not_ready": ["pod never Ready", "The probe asks port 8080, but `checkout` declares only port 80",
                  "kubectl -n team-c patch deployment/checkout --type=strategic -p '{\"spec\": {\"template\": "
                  "{\"spec\": {\"containers\": [{\"name\": \"checkout\", \"readinessProbe\": {\"httpGet\": "
                  "{\"port\": 80}}}]}}}}'", "{\"port\": 8080}", "is at revision 1, its first"],
    "cronjob_suspended": ["CronJob suspended", "check with its owners",
                          "kubectl -n team-c patch cronjob nightly-report --type=merge -p '{\"spec\": {\"suspend\": "
                          "false}}'",
                          "kubectl -n team-c patch cronjob nightly-report --type=merge -p '{\"spec\": {\"suspend\": "
                          "true}}'", "starts the latest missed run at once"],
    "job_failed": ["Job failed", "BackoffLimitExceeded", "OOMKilled (exit code 137)", "allocates 700Mi",
                   "kubectl -n team-b logs pod/nightly-export-x7k2p -c export --tail=50",
                   "kubectl -n team-b delete job nightly-export", "kubectl -n team-b apply -f -", "memory: 896Mi",
                   "then step 3's undo puts the old Job back"],
    "config_error": ["container cannot be configured", "takes key `DATABASE_HOST` of ConfigMap `orders-config`",
                     "`orders-config` holds `database-host`, `log-level`",
                     "kubectl -n team-a patch deployment/orders --type=strategic -p '{\"spec\": {\"template\": "
                     "{\"spec\": {\"containers\": [{\"name\": \"orders\", \"env\": [{\"name\": \"DATABASE_HOST\", "
                     "\"valueFrom\": {\"configMapKeyRef\": {\"name\": \"orders-config\", \"key\": \"database-host\"}}}]}]}}}}'"],
    "hpa_target_missing": ["HPA target missing", "scales Deployment `inventory` (`spec.scaleTargetRef`), which does "
                           "not exist", "kubectl -n team-b get deployment inventory --ignore-not-found",
                           "kubectl -n team-b get deployments",
                           "kubectl -n team-b patch hpa inventory --type=json -p '[{\"op\": \"replace\", \"path\": "
                           "\"/spec/scaleTargetRef/name\", \"value\": \"inventory-api\"}]'",
                           "\"value\": \"inventory\"}]'"],
    "unavailable": ["workload unavailable", "asks for 2 pods and 0 are available", "MinimumReplicasUnavailable",
                    "kubectl -n team-a scale deployment/bad-image --replicas=0",
                    "kubectl -n team-a scale deployment/bad-image --replicas=2", "is at revision 1, its first"],
}
MODES = ("remediation", "root_cause")


@pytest.fixture(params=sorted(SAMPLES))
def case(request):
    return request.param, SAMPLES[request.param]


def plan_for(model, messages) -> str:
    return "".join(collect(model, messages)[0])


def parsed(command, finding, admin=False, manifest=None):
    return parse_step(command.text, default_namespace=finding.namespace or None, cluster_scoped_allowed=admin,
                      manifest=manifest)


def section_manifest(section: str) -> str | None:
    """The YAML block of a step's section: what its `apply -f -` commands read (app.plans.core.plan_steps)."""
    found = re.search(r"```ya?ml\n(.*?)```", section, re.S)
    return found.group(1) if found else None


def step_sections(plan: str) -> list[str]:
    """The numbered steps of a remediation plan, each as its Markdown."""
    steps = plan.split("\n## Steps\n", 1)[1].split("\n## If this does not help", 1)[0]
    return [part for part in re.split(r"\n(?=### \d+\. )", steps) if part.strip()]


def test_every_class_has_a_sample_that_it_classifies():
    assert set(SAMPLES) == set(CLASSES)
    for name, build in SAMPLES.items():
        assert classify(read_facts(messages_for(build)[1])) == name


def test_remediation_names_the_object_and_gives_working_commands(model, case):
    name, build = case
    finding, messages = messages_for(build, "remediation", "we deployed ten minutes ago")
    plan = plan_for(model, messages)
    assert plan.startswith("# Remediation plan")
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


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("notes", ["", "pods are labelled app=payments-v2; use service/shop-backend or "
                                       "registry.example.com/acme/web:v9.9.8"])
def test_every_command_a_plan_writes_is_one_the_app_accepts(model, case, mode, notes):
    """What the run page lists as steps (every kubectl command in code) parses; nothing gets a refusal."""
    _, build = case
    finding, messages = messages_for(build, mode, notes)
    steps = plan_steps(plan_for(model, messages))
    refused = [(s.text, step.reason) for s in steps
               if isinstance(step := parsed(s.command, finding, manifest=s.manifest), Refusal)]
    assert not refused
    for planned in steps:
        step = parsed(planned.command, finding, manifest=planned.manifest)
        assert step.namespace == finding.namespace and step.mutates == planned.changes_cluster, planned.text


def test_each_change_is_a_step_followed_by_its_undo(model, case):
    """A changing command is a step's own command, and that step ends with the command undoing it."""
    _, build = case
    finding, messages = messages_for(build, "remediation", "pods are labelled app=payments-v2; service/shop-backend")
    plan = plan_for(model, messages)
    changes = [c.text for c in extract_commands(plan) if c.changes_cluster]
    undone = []
    for section in step_sections(plan):
        commands = extract_commands(section)
        manifest = section_manifest(section)
        first = parsed(commands[0], finding, manifest=manifest if commands[0].text.endswith("apply -f -") else None)
        if not first.mutates:
            assert not any(c.changes_cluster for c in commands), section
            continue
        assert "**How to undo:**" in section, section
        undo = parsed(commands[-1], finding, manifest=manifest if commands[-1].text.endswith("apply -f -") else None)
        assert undo.mutates and undo.text != first.text and undo.objects == first.objects, section
        undone += [first.text, undo.text]
    assert changes == undone  # no change anywhere else (diagnosis, outro)


def test_root_cause_plan_is_a_different_document(model, case):
    _, build = case
    finding, remediation_messages = messages_for(build, "remediation")
    _, root_cause_messages = messages_for(build, "root_cause")
    remediation = plan_for(model, remediation_messages)
    root_cause = plan_for(model, root_cause_messages)
    assert root_cause.startswith("# Root-cause plan")
    for heading in ("## Why it happened", "## How to reproduce", "## Upstream change", "## Prevention"):
        assert heading in root_cause
    assert "### 1." not in root_cause
    assert finding.name in root_cause and finding.namespace in root_cause
    assert root_cause != remediation
    assert not any(c.changes_cluster for c in extract_commands(root_cause))


def test_root_cause_names_image_and_chart_change(model):
    _, messages = messages_for(CASES["crash_loop"], "root_cause")
    plan = plan_for(model, messages)
    assert "ghcr.io/acme/checkout:2.3.0" in plan
    assert "Helm release `checkout` owns this object" in plan
    assert 'reason="CrashLoopBackOff",namespace="team-a"' in plan


def test_masked_names_in_errors_do_not_mislead_the_planner(model):
    result, gateway = CASES["ingress_backend_missing"]()
    result["spec"]["error"][0]["sensitive"] = [{"unmasked": "shop-api", "masked": "c2hvcC1hcGk"}]
    finding = Finding.from_result(result)
    messages = build_messages(finding, "remediation", "use service/shop-backend", gather_context(gateway, finding))
    plan = plan_for(model, messages)
    assert "c2hvcC1hcGk" in finding.errors[0]
    assert "routes to several Services" in plan
    assert "kubectl -n team-c get services" in plan
    assert "- `shop-api` → `/spec/rules/0/http/paths/1/backend/service/name`" in plan
    assert "patch ingress" not in plan  # which backend to replace is a guess: no change


def first_revision_crash(status):
    """The lab's crashloop-api shape: revision 1 of a Deployment with 2 replicas, `status` as given."""
    result, gateway = CASES["crash_loop"]()
    deploy = gateway.objects[("Deployment", "team-a", "checkout")]
    deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "1"
    deploy["status"] = status
    return result, gateway


def test_a_first_revision_is_scaled_to_zero_not_rolled_back(model):
    _, messages = messages_for(lambda: first_revision_crash({"replicas": 2, "unavailableReplicas": 2}))
    plan = plan_for(model, messages)
    assert "rollout undo" not in plan and "is at revision 1, its first" in plan
    stop, = [s for s in step_sections(plan) if "Stop the bleeding" in s]
    assert "kubectl -n team-a scale deployment/checkout --replicas=0" in stop
    assert "**How to undo:** Scale back to the 2 replicas it had:" in stop
    assert "kubectl -n team-a scale deployment/checkout --replicas=2" in stop
    assert "Nothing safe" not in plan


def test_working_pods_are_never_scaled_away(model):
    _, messages = messages_for(lambda: first_revision_crash({"replicas": 2, "availableReplicas": 1}))
    plan = plan_for(model, messages)
    assert "kubectl -n team-a scale" not in plan and "rollout undo" not in plan
    assert "**Nothing safe can be changed right now**" in plan


def test_the_service_takes_the_labels_the_user_gave(model):
    _, messages = messages_for(CASES["service_no_endpoints"], "remediation",
                               "The pods are labelled app=payments-v2 since the rename.")
    plan = plan_for(model, messages)
    assert ("kubectl -n team-b patch service payments --type=json -p '[{\"op\": \"replace\", \"path\": "
            "\"/spec/selector\", \"value\": {\"app\": \"payments-v2\"}}]'") in plan
    assert ("kubectl -n team-b patch service payments --type=json -p '[{\"op\": \"replace\", \"path\": "
            "\"/spec/selector\", \"value\": {\"app\": \"payments-api\"}}]'") in plan
    assert "from the labels you gave" in plan


def test_a_named_target_port_no_pod_declares_is_pointed_at_the_declared_one(model):
    """eval/charts/wrong-target-port: the selector matches Ready pods, the targetPort names a port they lack."""
    def renamed_port():
        svc = {"apiVersion": "v1", "kind": "Service", "metadata": meta("catalog", "team-b"),
               "spec": {"selector": {"app": "catalog"}, "ports": [{"name": "http", "port": 80, "targetPort": "web"}]}}
        deploy = deployment("catalog", "team-b", "nginx:1.27", [{"name": "web", "image": "nginx:1.27",
                                                                  "ports": [{"name": "http", "containerPort": 80}]}])
        ready = pod(replicaset(deploy), "r3ady", {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]})
        result = {"spec": {"kind": "Service", "name": "team-b/catalog",
                           "error": [{"text": "Service has no endpoints, expected label app=catalog"}]}}
        return result, SampleGateway([svc, deploy, ready])
    finding, messages = messages_for(renamed_port)
    plan = plan_for(model, messages)
    assert "the targetPort is the problem" in plan and "port `http` targets `web`, but the pod declares `http` (80)" in plan
    assert ("kubectl -n team-b patch service catalog --type=json -p '[{\"op\": \"replace\", \"path\": "
            "\"/spec/ports/0/targetPort\", \"value\": \"http\"}]'") in plan
    assert ("kubectl -n team-b patch service catalog --type=json -p '[{\"op\": \"replace\", \"path\": "
            "\"/spec/ports/0/targetPort\", \"value\": \"web\"}]'") in plan
    assert "/spec/selector" not in plan  # the selector is right: it is not touched
    steps = plan_steps(plan)
    assert not [s for s in steps if isinstance(parsed(s.command, finding), Refusal)]


def test_without_notes_the_service_follows_its_own_labels(model):
    """A chart gives a Service and its pods the same labels: the orphan-service chart's payments Service."""
    def labelled():
        result, gateway = CASES["service_no_endpoints"]()
        svc = gateway.objects[("Service", "team-b", "payments")]
        svc["metadata"]["labels"] = {"app": "payments", "app.kubernetes.io/instance": "orphan-service"}
        return result, gateway
    plan = plan_for(model, messages_for(labelled)[1])
    assert "\"value\": {\"app\": \"payments\"}" in plan and "\"value\": {\"app\": \"payments-api\"}" in plan
    assert "from the Service's own labels" in plan and "Apply it only if step 2 lists pods" in plan


def test_the_ingress_points_at_the_service_the_user_named(model):
    _, messages = messages_for(CASES["ingress_backend_missing"], "remediation", "It moved to service/shop-backend.")
    plan = plan_for(model, messages)
    pointer = "/spec/rules/0/http/paths/1/backend/service/name"
    assert (f"kubectl -n team-c patch ingress shop --type=json -p '[{{\"op\": \"replace\", \"path\": \"{pointer}\", "
            f"\"value\": \"shop-backend\"}}]'") in plan
    assert f"\"path\": \"{pointer}\", \"value\": \"shop-api\"" in plan


def test_an_image_the_user_named_is_set_with_its_undo(model):
    _, messages = messages_for(CASES["image_pull"], "remediation",
                               "v9.9.8 was the last good one: registry.example.com/acme/web:v9.9.8. Also nginx:1.27.")
    plan = plan_for(model, messages)
    assert "kubectl -n team-b set image deployment/web web=registry.example.com/acme/web:v9.9.8" in plan
    assert "kubectl -n team-b set image deployment/web web=registry.example.com/acme/web:v9.9.9-typo" in plan
    assert "nginx:1.27" not in plan.split("## Steps", 1)[1]  # another repository: not this container's image


def test_a_cluster_scoped_finding_gets_no_command_the_app_would_refuse(model):
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-1"}, "status": {"conditions": [
        {"type": "MemoryPressure", "status": "True"}]}}
    finding = Finding.from_result({"spec": {"kind": "Node", "name": "worker-1",
                                            "error": [{"text": "worker-1 has condition of type MemoryPressure"}]}})
    gateway = SampleGateway()
    gateway.objects[("Node", None, "worker-1")] = node
    for mode in MODES:
        messages = build_messages(finding, mode, "", gather_context(gateway, finding))
        plan = plan_for(model, messages)
        assert extract_commands(plan) == [] and "an administrator can describe" in plan.lower()


def test_the_planner_names_exactly_the_kinds_the_app_runs_steps_on():
    namespaced = {kind.api_kind for kind in KINDS if kind.namespaced and kind.name != "events"}
    assert set(STEP_KINDS) == namespaced
    assert all(resolve_alias(word).api_kind == api_kind for api_kind, word in STEP_KINDS.items())
