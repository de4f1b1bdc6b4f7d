"""The offline planner's remediation steps work on the lab's known issues.

For every finding K8sGPT reports about a known-issue chart in team-a/b/c, the plan is written the way
the app writes it (the live context read as an administrator through the UserReader, the prompt from
build_messages, the real offline planner process); every step it lists is accepted by the strict
parser, and every change and its undo is dry-run on the server by the app's executor (the real kubectl,
as the administrator) and accepted by the API server. Nothing is applied: other suites rely on these
findings, so each changed object is checked to be exactly as it was.
"""

from __future__ import annotations

import uuid

import pytest
from kubernetes import client

from app.cluster.errors import NotFound
from app.findings import Finding
from app.kinds import get_kind, kind_for_api_kind
from app.plans.core.kubectl import Refusal, parse_step
from app.plans.core.plan_steps import plan_steps
from app.plans.core.model_client import ModelClient, ModelSettings
from tests.actions.helpers import act, make_run
from tests.lab.test_lab_findings import EXPECTED, RESULT_TIMEOUT, matches
from tests.support.lab_control import install_app_chart, labctl, wait_for
from tests.support.lab_kube import APP_KUBECONFIG
from tests.support.lab_namespaces import lab_namespaces
from tests.support.remedy import remediation_plan

# chart -> {finding kind: the verbs of its plan's changes, each followed by its undo}. No safe change
# exists from inside the namespace for a claim whose storage class is missing (the class is immutable
# and cluster-wide), nor for an Ingress whose right Service the context does not name.
# A Deployment finding is planned from its failing pod, so it gets the pod's changes.
CHANGES = {
    "crashloop-api": {"Pod": ["scale", "scale"], "Deployment": ["scale", "scale"]},
    "bad-image": {"Pod": ["scale", "scale"], "Deployment": ["scale", "scale"]},
    "oom-worker": {"Pod": ["set resources", "set resources"], "Deployment": ["set resources", "set resources"]},
    "orphan-service": {"Service": ["patch", "patch"]},
    "unschedulable": {"Pod": ["patch", "patch"], "Deployment": ["patch", "patch"]},
    "pvc-missing-class": {"PersistentVolumeClaim": ["delete", "apply", "apply", "delete"]},
    "ingress-missing-service": {"Ingress": ["patch", "patch"]},
    "suspended-cronjob": {"CronJob": ["patch", "patch"]},
    "not-ready": {"Pod": ["patch", "patch"], "Deployment": ["patch", "patch"]},
}
LABEL = {"codex-test": "runbook-steps"}
DEPLOYMENTS = "/apis/apps/v1/namespaces/{}/deployments"
# What a developer might add in the context box, and the changes the plan then has instead.
NOTES = {
    "bad-image": ("We meant docker.io/library/nginx:1.27-alpine.",
                  {"Pod": ["set image", "set image"], "Deployment": ["set image", "set image"]}),
    "ingress-missing-service": ("The shop is served by service/healthy-shop now.", {"Ingress": ["patch", "patch"]}),
}


@pytest.fixture(scope="module")
def lab_kubectl():
    return str(labctl("paths").binary("kubectl"))


@pytest.fixture(scope="module")
def change_roles(known_issues):
    """This checkout's charts/cluster-codex: the change roles an administrator's dry-run needs."""
    install_app_chart()
    return known_issues


@pytest.fixture
def app_config(database_url, kube, lab_kubectl):
    return {"SQLALCHEMY_DATABASE_URI": database_url, "CODEX_KUBECONFIG": str(APP_KUBECONFIG),
            "CODEX_KUBECTL": lab_kubectl, "CODEX_ACTIONS_PER_MINUTE": 1000}


@pytest.fixture
def model(planner):
    client = ModelClient(ModelSettings(base_url=planner.base_url, timeout=20))
    yield client
    client.close()


def chart_results(lab, chart: str) -> list[dict]:
    """The Results about the chart's objects, once K8sGPT reports each kind of finding CHANGES names."""
    namespace = EXPECTED[chart][0][1]

    def about_chart():
        found = []
        for result in lab.results():
            finding = Finding.from_result(result)
            kind = kind_for_api_kind(finding.kind)
            if finding.namespace != namespace or kind is None:
                continue
            try:
                obj = lab.get(kind.object_path(namespace, finding.name))
            except NotFound:  # gone since K8sGPT's last pass
                continue
            if ((obj.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/instance") == chart:
                found.append(result)
        return found if {r["spec"]["kind"] for r in found} == set(CHANGES[chart]) else None

    for kind, ns, name_re, text in EXPECTED[chart]:  # the findings tests/lab checks, for a precise failure
        wait_for(f"{kind} {ns}/{name_re} ({text!r}) among the K8sGPT Results",
                 lambda: any(matches(r, kind, ns, name_re, text) for r in lab.results()),
                 timeout=RESULT_TIMEOUT, interval=2)
    found = wait_for(f"K8sGPT's findings about {chart}: {', '.join(sorted(CHANGES[chart]))}", about_chart,
                     timeout=RESULT_TIMEOUT, interval=2)
    return sorted(found, key=lambda r: r["spec"]["kind"])


def accepted_steps(plan: str, finding: Finding) -> list:
    """Every step the run page lists for this plan (an `apply -f -` with its manifest), each accepted by
    the strict parser: (parsed step, manifest)."""
    steps = []
    for planned in plan_steps(plan):
        step = parse_step(planned.text, default_namespace=finding.namespace, cluster_scoped_allowed=False,
                          manifest=planned.manifest)
        assert not isinstance(step, Refusal), (planned.text, step.reason)
        steps.append((step, planned.manifest))
    return steps


def state_of(lab, namespace: str, objects) -> dict:
    """What a dry-run must leave alone: each object's labels, annotations and spec."""
    state = {}
    for kind_name, name in objects:
        obj = lab.get(get_kind(kind_name).object_path(namespace, name))
        meta = obj.get("metadata") or {}
        state[(kind_name, name)] = (meta.get("labels"), meta.get("annotations"), obj.get("spec"))
    return state


@pytest.mark.parametrize("chart", sorted(CHANGES))
def test_every_change_of_the_plan_is_accepted_as_a_server_dry_run(app, change_roles, lab_user, model, chart):
    lab = change_roles
    admin = lab_user("runbook-admin", admin=True)
    results = chart_results(lab, chart)
    note, noted_changes = NOTES.get(chart, ("", {}))
    for result in results:
        finding = Finding.from_result(result)
        for notes in dict.fromkeys(["", note]):
            plan, _ = remediation_plan(app, model, admin, finding, notes)
            changes = [(step, manifest) for step, manifest in accepted_steps(plan, finding) if step.mutates]
            expected = (noted_changes[finding.kind] if notes and finding.kind in noted_changes
                        else CHANGES[chart][finding.kind])
            assert [s.verb for s, _ in changes] == expected, plan
            if not changes:
                continue
            objects = {obj for s, _ in changes for obj in s.objects}
            before = state_of(lab, finding.namespace, objects)
            run = make_run(app, admin, finding.namespace, finding.name, finding.kind)
            for step, manifest in changes:
                outcome = act(app, "dry-run", admin, run, step.text, manifest)
                assert outcome.ok, f"{finding.kind} {finding.qualified_name}: {step.text}\n{outcome.message}"
                assert "nothing was changed" in outcome.message
            assert state_of(lab, finding.namespace, objects) == before, "a dry-run changed the object"


@pytest.fixture(scope="module")
def namespace(change_roles):
    with lab_namespaces(change_roles, (f"codex-runbook-{uuid.uuid4().hex[:6]}",), LABEL) as names:
        yield names[0]


def crash_looping_second_revision(lab, namespace: str) -> tuple[str, str]:
    """A copy of the crashloop-api chart's Deployment whose image was changed once (revision 2): its
    name and the name of its crash-looping pod."""
    name = f"api-{uuid.uuid4().hex[:6]}"
    template = {"metadata": {"labels": {"app": name, "lab.cluster-codex.io/simulate": "crashloop", **LABEL}},
                "spec": {"automountServiceAccountToken": False, "containers": [
                    {"name": "api", "image": "docker.io/library/busybox:1.36", "command": ["sh", "-c", "exit 1"]}]}}
    lab.create(DEPLOYMENTS.format(namespace), {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": LABEL},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": template}})
    path = f"{DEPLOYMENTS.format(namespace)}/{name}"
    wait_for(f"revision 1 of deployment/{name}", lambda: lab.get(path)["metadata"].get("annotations"), timeout=60)
    client.AppsV1Api(lab.admin()).patch_namespaced_deployment(name, namespace, {"spec": {"template": {"spec": {
        "containers": [{"name": "api", "image": "docker.io/library/busybox:1.37"}]}}}}, _request_timeout=30)

    def crashing_pod_of_revision_2():
        for pod in lab.get(f"/api/v1/namespaces/{namespace}/pods", labelSelector=f"app={name}")["items"]:
            statuses = (pod.get("status") or {}).get("containerStatuses") or []
            if pod["spec"]["containers"][0]["image"].endswith(":1.37") and any(
                    ((s.get("state") or {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff" for s in statuses):
                return pod["metadata"]["name"]
        return None
    return name, wait_for("a crash-looping pod of revision 2", crashing_pod_of_revision_2, timeout=90)


def test_a_later_revision_is_rolled_back_and_its_image_set_again(app, change_roles, namespace, lab_user, model):
    """The known issues are all first revisions; on a copy at revision 2 the roll-back and its undo dry-run too."""
    lab = change_roles
    name, pod = crash_looping_second_revision(lab, namespace)
    admin = lab_user("runbook-admin", admin=True)
    finding = Finding.from_result({"spec": {"kind": "Pod", "name": f"{namespace}/{pod}", "error": [
        {"text": f"the last termination reason is Error container=api pod={pod}"}]}})
    plan, _ = remediation_plan(app, model, admin, finding)
    changes = [step for step, _ in accepted_steps(plan, finding) if step.mutates]
    assert [step.text for step in changes] == [
        f"kubectl -n {namespace} rollout undo deployment/{name}",
        f"kubectl -n {namespace} set image deployment/{name} api=docker.io/library/busybox:1.37"], plan
    before = state_of(lab, namespace, {("deployments", name)})
    run = make_run(app, admin, namespace, pod, "Pod")
    for step in changes:
        outcome = act(app, "dry-run", admin, run, step.text)
        assert outcome.ok, f"{step.text}\n{outcome.message}"
    assert state_of(lab, namespace, {("deployments", name)}) == before
