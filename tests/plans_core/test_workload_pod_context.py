"""A workload finding ("has 1 replicas but 0 are available") is planned from its failing pod: the
context holds one of its pods (the first not ready) with that pod's events and logs, and the offline
planner writes the plan for the pod's cause, acting on the workload, saying so up front."""

from app.findings import Finding
from app.plans.cluster_context import gathered_kinds
from app.plans.core.context import gather_context
from app.plans.core.prompts import build_messages
from tests.plans_core.planning_helpers import collect
from tests.plans_core.planning_samples import SampleGateway, deployment
from tests.plans_core.test_runbooks import not_ready

SHORT = "Deployment team-c/checkout has 1 replicas but 0 are available with status running"


def _deployment_finding():
    return Finding.from_result({"spec": {"kind": "Deployment", "name": "team-c/checkout", "error": [{"text": SHORT}]}})


def test_the_context_of_a_workload_holds_its_pod_that_is_not_ready_with_its_events():
    _, gateway = not_ready()
    finding = _deployment_finding()
    gathered = gather_context(gateway, finding)
    keys = [s.key for s in gathered.sections]
    assert keys[:1] == ["object"] and "pod" in keys and "pod-events" in keys
    pod = next(s for s in gathered.sections if s.key == "pod")
    assert pod.attrs == {"kind": "Pod", "name": "checkout-7d9f8c6b5-r3ady"} and "readinessProbe" in pod.body
    assert ("list_objects", "Pod", "team-c", "app=checkout") in gateway.calls
    assert {"pods", "events", "deployments"} <= set(gathered_kinds(finding, gathered))  # readers need all three


def test_the_plan_of_a_workload_is_its_pods_cause_acting_on_the_workload(model):
    _, gateway = not_ready()
    finding = _deployment_finding()
    plan = "".join(collect(model, build_messages(finding, "remediation", "", gather_context(gateway, finding)))[0])
    assert "short of available pods; its pod `checkout-7d9f8c6b5-r3ady` shows why" in plan
    assert "readiness probe" in plan.lower() and "deployment/checkout" in plan
    assert "scale deployment/checkout --replicas=0" not in plan  # a real fix, not stopping it


def test_a_workload_without_pods_keeps_its_own_plan(model):
    gateway = SampleGateway([deployment("checkout", "team-c", "docker.io/library/nginx:1.27-alpine")])
    finding = _deployment_finding()
    gathered = gather_context(gateway, finding)
    assert [s.key for s in gathered.sections] == ["object"]
    plan = "".join(collect(model, build_messages(finding, "remediation", "", gathered))[0])
    assert "shows why" not in plan


def test_an_ingress_whose_service_was_renamed_is_pointed_at_the_new_name(model):
    """The context lists the namespace's Services; the one whose name starts like the missing backend's
    and serves its port is what the patch points at (its undo puts the old name back)."""
    from tests.plans_core.planning_samples import CASES, meta

    result, gateway = CASES["ingress_backend_missing"]()
    gateway.objects[("Service", "team-c", "shop-web")] = {
        "apiVersion": "v1", "kind": "Service", "metadata": meta("shop-web", "team-c"),
        "spec": {"selector": {"app": "shop-web"}, "ports": [{"name": "http", "port": 8080, "targetPort": "http"}]}}
    finding = Finding.from_result(result)
    gathered = gather_context(gateway, finding)
    assert "shop-web" in next(s.body for s in gathered.sections if s.key == "services")
    plan = "".join(collect(model, build_messages(finding, "remediation", "", gathered))[0])
    assert '"value": "shop-web"' in plan and '"value": "shop-api"' in plan  # the patch and its undo


def test_a_service_context_holds_one_pod_it_selects_without_its_logs():
    """What a Service's ports must match is in its pods: one selected pod, its YAML only."""
    from tests.plans_core.planning_samples import meta, pod, replicaset

    deploy = deployment("catalog", "team-b", "nginx:1.27")
    ready = pod(replicaset(deploy), "r3ady", {"phase": "Running"})
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": meta("catalog", "team-b"),
           "spec": {"selector": {"app": "catalog"}, "ports": [{"port": 80, "targetPort": "web"}]}}
    gateway = SampleGateway([svc, deploy, ready])
    finding = Finding.from_result({"spec": {"kind": "Service", "name": "team-b/catalog",
                                            "error": [{"text": "Service has no endpoints, expected label app=catalog"}]}})
    gathered = gather_context(gateway, finding)
    assert [s.key for s in gathered.sections] == ["object", "pod"]
    assert ("list_objects", "Pod", "team-b", "app=catalog") in gateway.calls
    assert not [c for c in gateway.calls if c[0] == "read_pod_log"]
    assert {"pods", "services"} <= set(gathered_kinds(finding, gathered))


def test_a_container_that_cannot_be_configured_brings_its_config_maps_keys_not_values():
    from tests.plans_core.test_runbooks import config_error

    result, gateway = config_error()
    finding = Finding.from_result(result)
    gathered = gather_context(gateway, finding)
    keys = next(s for s in gathered.sections if s.key == "configmaps")
    assert "database-host" in keys.body and "log-level" in keys.body
    assert "orders-db.team-a.svc" not in keys.body and "info" not in keys.body.split()  # keys only
    assert "configmaps" in gathered_kinds(finding, gathered)  # a reader of the run must see ConfigMaps


def test_a_failed_jobs_context_holds_its_failed_pod_and_log():
    from tests.plans_core.test_runbooks import job_failed

    result, gateway = job_failed()
    gathered = gather_context(gateway, Finding.from_result(result))
    pod = next(s for s in gathered.sections if s.key == "pod")
    assert pod.attrs["name"] == "nightly-export-x7k2p" and "OOMKilled" in pod.body
    assert "loading 700 MiB" in next(s.body for s in gathered.sections if s.key == "log")
