"""Every known-issue chart yields its K8sGPT Result; healthy workloads yield none.

Real components only: the lab's kube-apiserver, controller-manager, scheduler, kwok, and
K8sGPT (`k8sgpt serve` + operator) writing Result objects into the k8sgpt namespace.
"""

from __future__ import annotations

import re
import uuid

import pytest
from kubernetes import client

from tests.support.lab_control import wait_for
from tests.support.lab_kube import K8SGPT_NS as K8SGPT_NAMESPACE, ROOT

CHARTS = ROOT / "charts" / "known-issues"
RESULT_TIMEOUT = 240  # overall bound for K8sGPT to report a finding (analysis interval is 10 s)


def pod_of(deployment: str) -> str:
    """Name pattern of a pod owned by a Deployment: <deployment>-<rs hash>-<pod hash>."""
    return rf"{re.escape(deployment)}-[a-z0-9]+-[a-z0-9]{{5}}"


# chart -> findings it must produce: (Result spec.kind, namespace, object name regex, text in an error)
EXPECTED: dict[str, list[tuple[str, str, str, str]]] = {
    "crashloop-api": [("Pod", "team-a", pod_of("crashloop-api"), "the last termination reason is Error"),
                      ("Deployment", "team-a", "crashloop-api", "0 are available")],
    "bad-image": [("Pod", "team-a", pod_of("bad-image"), "Back-off pulling image")],
    "oom-worker": [("Pod", "team-b", pod_of("oom-worker"), "the last termination reason is OOMKilled")],
    "orphan-service": [("Service", "team-b", "payments", "Service has no endpoints")],
    "unschedulable": [("Pod", "team-b", pod_of("gpu-trainer"), "node affinity/selector")],
    "pvc-missing-class": [("PersistentVolumeClaim", "team-c", "reports-data", "fast-ssd-does-not-exist")],
    "ingress-missing-service": [("Ingress", "team-c", "shop",
                                 "Ingress uses the service team-c/shop-frontend which does not exist")],
    "suspended-cronjob": [("CronJob", "team-c", "nightly-report", "CronJob nightly-report is suspended")],
    "not-ready": [("Pod", "team-c", pod_of("checkout"), "Readiness probe failed")],
}
# healthy charts: namespace and the name of their Deployment and Service
HEALTHY = {"healthy-web": "team-a", "healthy-api": "team-b", "healthy-shop": "team-c"}


def chart_dirs() -> set[str]:
    return {p.parent.name for p in CHARTS.glob("*/Chart.yaml")}


def matches(result: dict, kind: str, namespace: str, name_re: str, text: str) -> bool:
    spec = result.get("spec") or {}
    if spec.get("kind") != kind:
        return False
    ns, _, name = (spec.get("name") or "").partition("/")
    if ns != namespace or not re.fullmatch(name_re, name):
        return False
    return any(text in (e.get("text") or "") for e in spec.get("error") or [])


def summary(results: list[dict]) -> str:
    specs = [r.get("spec") or {} for r in results]
    return "\n".join(f"  {s.get('kind')} {s.get('name')}: {[e.get('text') for e in s.get('error') or []]}"
                     for s in specs)


@pytest.fixture(scope="session")
def analysed(known_issues):
    """Waits until K8sGPT has analysed the cluster *after* the known issues settled.

    First the healthy Deployments must be fully ready; then a canary finding (a Service without
    endpoints in a fresh namespace) is created, and once its Result appears, the operator has run a
    whole analysis pass (including deleting stale Results) that started after that point.
    """
    lab = known_issues
    apps = client.AppsV1Api(lab.admin())
    core = client.CoreV1Api(lab.admin())

    def healthy_ready():
        for chart, ns in HEALTHY.items():
            d = apps.read_namespaced_deployment(chart, ns, _request_timeout=30)
            if (d.status.ready_replicas or 0) != d.spec.replicas:
                return False
        return True

    wait_for("the healthy Deployments to be ready", healthy_ready, timeout=180)

    canary_ns = f"lab-canary-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=canary_ns)), _request_timeout=30)
    try:
        core.create_namespaced_service(canary_ns, client.V1Service(
            metadata=client.V1ObjectMeta(name="canary"),
            spec=client.V1ServiceSpec(selector={"app": "nothing-matches-this"},
                                      ports=[client.V1ServicePort(port=80)])), _request_timeout=30)
        wait_for(f"the canary Result for Service {canary_ns}/canary",
                 lambda: any(matches(r, "Service", canary_ns, "canary", "Service has no endpoints")
                             for r in lab.results()), timeout=RESULT_TIMEOUT)
        yield lab
    finally:
        core.delete_namespace(canary_ns, _request_timeout=30)


def test_every_chart_has_an_expectation():
    assert chart_dirs() == set(EXPECTED) | set(HEALTHY)
    assert {ns for findings in EXPECTED.values() for _, ns, _, _ in findings} == {"team-a", "team-b", "team-c"}


@pytest.mark.parametrize("chart", sorted(EXPECTED))
def test_known_issue_yields_its_result(analysed, chart):
    lab = analysed
    for kind, ns, name_re, text in EXPECTED[chart]:
        found = wait_for(f"{kind} {ns}/{name_re} ({text!r}) among the K8sGPT Results",
                         lambda: [r for r in lab.results() if matches(r, kind, ns, name_re, text)] or None,
                         timeout=RESULT_TIMEOUT, interval=2)
        result = found[0]
        labels = result["metadata"].get("labels") or {}
        assert result["metadata"]["namespace"] == K8SGPT_NAMESPACE
        assert labels.get("k8sgpts.k8sgpt.ai/namespace") == K8SGPT_NAMESPACE
        assert labels.get("k8sgpts.k8sgpt.ai/name")


def test_healthy_workloads_yield_no_result(analysed):
    results = analysed.results()
    flagged = [r for r in results
               for chart, ns in HEALTHY.items()
               if ((r.get("spec") or {}).get("name") or "").startswith(f"{ns}/{chart}")]
    assert not flagged, "healthy workloads were flagged:\n" + summary(flagged)
    # and the known issues are there in the same snapshot, so the check above saw a real analysis
    assert any(matches(r, *EXPECTED["orphan-service"][0]) for r in results), summary(results)


def test_unlabelled_pods_run_and_labelled_pods_show_their_failure(analysed):
    core = client.CoreV1Api(analysed.admin())
    healthy = core.list_namespaced_pod("team-a", label_selector="app.kubernetes.io/name=healthy-web",
                                       _request_timeout=30).items
    assert healthy and all(p.status.phase == "Running" for p in healthy)
    assert all(all(cs.ready for cs in p.status.container_statuses) for p in healthy)

    def statuses(ns: str, app: str):
        # a Deployment whose rollout never completes (bad image) keeps its old pod: check every pod
        pods = core.list_namespaced_pod(ns, label_selector=f"app.kubernetes.io/name={app}", _request_timeout=30).items
        assert pods, f"no pods for {ns}/{app}"
        return [p.status for p in pods]

    for st in statuses("team-a", "crashloop-api"):
        crash = st.container_statuses[0]
        assert crash.state.waiting.reason == "CrashLoopBackOff"
        assert crash.last_state.terminated.exit_code == 1 and crash.restart_count > 0
    for st in statuses("team-b", "oom-worker"):
        oom = st.container_statuses[0]
        assert (oom.last_state.terminated.reason, oom.last_state.terminated.exit_code) == ("OOMKilled", 137)
        assert oom.state.waiting.reason == "CrashLoopBackOff"
    for st in statuses("team-a", "bad-image"):
        assert st.phase == "Pending" and st.container_statuses[0].state.waiting.reason == "ImagePullBackOff"
    for st in statuses("team-c", "checkout"):
        assert st.phase == "Running" and st.container_statuses[0].state.running
        assert not st.container_statuses[0].ready


def test_invalid_cron_schedule_is_refused_by_the_api_server(lab):
    """Why the CronJob known issue is a suspended job: an invalid schedule cannot be stored."""
    batch = client.BatchV1Api(lab.admin())
    body = client.V1CronJob(
        metadata=client.V1ObjectMeta(name="invalid-schedule"),
        spec=client.V1CronJobSpec(schedule="61 25 * * *", job_template=client.V1JobTemplateSpec(
            spec=client.V1JobSpec(template=client.V1PodTemplateSpec(spec=client.V1PodSpec(
                restart_policy="Never", containers=[client.V1Container(name="c", image="busybox")]))))))
    with pytest.raises(client.ApiException) as err:
        batch.create_namespaced_cron_job("default", body, dry_run="All", _request_timeout=30)
    assert err.value.status == 422 and "schedule" in err.value.body


def test_fake_nodes_are_ready_with_capacity(lab):
    nodes = client.CoreV1Api(lab.admin()).list_node(label_selector="type=kwok", _request_timeout=30).items
    assert len(nodes) >= 3
    for node in nodes:
        assert node.metadata.annotations.get("kwok.x-k8s.io/node") == "fake"
        ready = [c for c in node.status.conditions if c.type == "Ready"]
        assert ready and ready[0].status == "True"
        assert {"cpu", "memory", "pods"} <= set(node.status.capacity)


def test_result_objects_have_the_shape_the_app_reads(analysed):
    results = analysed.results()
    assert results
    for r in results:
        spec = r["spec"]
        assert spec["kind"] and re.fullmatch(r"[a-z0-9.-]+/[A-Za-z0-9.:_-]+", spec["name"]), spec
        assert spec["error"] and all(e.get("text") for e in spec["error"]), spec
        # Explain is on (the lab's explainer): K8sGPT's own short answer, in its prompt's format.
        assert spec.get("details", "").startswith("Error: ") and "\nSolution: " in spec["details"], spec
        assert len(spec["details"]) <= 280


def test_chart_files_are_minimal_helm_v2_with_kube_version():
    for chart in sorted(chart_dirs()):
        text = (CHARTS / chart / "Chart.yaml").read_text()
        assert "apiVersion: v2" in text and 'kubeVersion: ">=1.30.0-0"' in text, chart
        assert re.search(r"cluster-codex\.io/namespace: team-[abc]\b", text), chart


def test_planted_secret_is_referenced_by_env_in_team_a():
    text = (CHARTS / "crashloop-api" / "templates" / "secret.yaml").read_text()
    assert "s3cr3t-planted-" in text
    deploy = (CHARTS / "crashloop-api" / "templates" / "deployment.yaml").read_text()
    assert "secretKeyRef" in deploy and "crashloop-api-db" in deploy
