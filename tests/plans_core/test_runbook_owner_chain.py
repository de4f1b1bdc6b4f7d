"""The offline planner finds the owning workload in the live context when K8sGPT names no parent.

In the lab, K8sGPT Results always carry an empty ``parentObject``. The prompt still shows who owns
the pod: the owner chain the app gathered (as far as the user may read it) and the pod's own
``metadata.ownerReferences``. These tests build the prompt exactly as the app does (gather_context
then build_messages over a gateway of realistic objects) and check both plan types act on
``deployment/crashloop-api`` in ``team-a``.
"""

import copy

import pytest

from app.plans.core.commands import extract_commands
from app.plans.core.context import gather_context
from app.findings import Finding
from app.plans.core.prompts import build_messages
from offline_planner.facts import read_facts
from offline_planner.planner import write_plan
from tests.plans_core.planning_helpers import collect
from tests.plans_core.planning_samples import SampleGateway, deployment, event, meta, replicaset

NAMESPACE = "team-a"
TEMPLATE_HASH = "c8b8c8889"
RS_NAME = f"crashloop-api-{TEMPLATE_HASH}"
POD_NAME = f"{RS_NAME}-d7pkl"
IMAGE = "docker.io/library/busybox:1.36"
NO_HISTORY = "no rollout history"
FORBIDDEN_KINDS = {
    "full chain": set(),
    "replicaset forbidden": {"ReplicaSet"},  # the browser suite's Alice: pods and deployments only
    "deployment forbidden": {"Deployment"},
    "only the pod": {"ReplicaSet", "Deployment"},
}


class Forbidden(Exception):
    """Stands in for the gateway's Forbidden."""


class PartialGateway(SampleGateway):
    """A user who may read only some kinds, like a grant of pods and deployments."""

    def __init__(self, objects, forbidden=(), **kwargs):
        super().__init__(objects, **kwargs)
        self.forbidden = set(forbidden)

    def get_object(self, kind, namespace, name):
        if kind in self.forbidden:
            self.calls.append(("get_object", kind, namespace, name))
            raise Forbidden(f"{kind} {namespace}/{name} is forbidden")
        return super().get_object(kind, namespace, name)


def crashloop_api(forbidden=(), parent=""):
    """The known-issue chart crashloop-api: a Deployment whose pod exits 1 at start-up."""
    containers = [{"name": "api", "image": IMAGE, "command": ["sh", "-c", "exit 1"],
                   "env": [{"name": "DB_PASSWORD",
                            "valueFrom": {"secretKeyRef": {"name": "crashloop-api-db", "key": "password"}}}]}]
    deploy = deployment("crashloop-api", NAMESPACE, IMAGE, containers)
    rs = replicaset(deploy, TEMPLATE_HASH)
    rs["metadata"]["labels"] = {"app": "crashloop-api", "pod-template-hash": TEMPLATE_HASH}
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": meta(POD_NAME, NAMESPACE, labels={"app": "crashloop-api", "pod-template-hash": TEMPLATE_HASH},
                            ownerReferences=[{"apiVersion": "apps/v1", "kind": "ReplicaSet", "controller": True,
                                              "blockOwnerDeletion": True, "name": RS_NAME, "uid": "uid-rs"}]),
           "spec": {"containers": copy.deepcopy(containers), "restartPolicy": "Always"},
           "status": {"phase": "Running", "containerStatuses": [{
               "name": "api", "ready": False, "restartCount": 5, "image": IMAGE,
               "state": {"waiting": {"reason": "CrashLoopBackOff",
                                     "message": f"back-off 5m0s restarting failed container=api pod={POD_NAME}"}},
               "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}]}}
    gateway = PartialGateway(
        [deploy, rs, pod], forbidden,
        events={("Pod", POD_NAME): [event("BackOff", f"Back-off restarting failed container api in pod {POD_NAME}",
                                          "2026-11-26T12:10:00Z", count=12)]},
        logs={(POD_NAME, "api", True): "connecting to postgres at db.team-a.svc:5432\n"
                                        'FATAL: password authentication failed for user "api"\nexiting with status 1'})
    result = {"spec": {"kind": "Pod", "name": f"{NAMESPACE}/{POD_NAME}", "parentObject": parent, "details": "",
                       "error": [{"text": f"the last termination reason is Error container=api pod={POD_NAME}"}]}}
    return result, gateway


def prompt(mode, forbidden=(), user_context="", **kwargs):
    result, gateway = crashloop_api(forbidden, **kwargs)
    finding = Finding.from_result(result)
    assert finding.parent == kwargs.get("parent", "")  # K8sGPT in the lab always writes ""
    return build_messages(finding, mode, user_context, gather_context(gateway, finding))


@pytest.fixture(params=sorted(FORBIDDEN_KINDS))
def forbidden(request):
    return FORBIDDEN_KINDS[request.param]


def test_the_prompt_has_no_parent_but_names_the_owners(forbidden):
    user = prompt("remediation", forbidden)[1]["content"]
    assert '"parent": ""' in user
    assert f"name: {RS_NAME}" in user  # the pod's ownerReferences, at least
    if forbidden:
        assert "could not be read (Forbidden)" in user


def test_the_planner_reads_the_owning_deployment(forbidden):
    facts = read_facts(prompt("remediation", forbidden))
    assert facts.parent == ""
    assert facts.workload == ("Deployment", "crashloop-api")
    assert facts.workload_ref == "deployment/crashloop-api"
    kinds = [kind for kind, _, _ in facts.owner_chain]
    assert kinds == ["ReplicaSet", "Deployment"]
    how = dict((kind, how) for kind, _, how in facts.owner_chain)
    if "ReplicaSet" in forbidden:  # only the pod's ownerReferences: name minus pod-template-hash
        assert how == {"ReplicaSet": "referenced", "Deployment": "inferred"}
    elif "Deployment" in forbidden:  # the ReplicaSet's ownerReferences name it
        assert how == {"ReplicaSet": "read", "Deployment": "referenced"}
    else:
        assert how == {"ReplicaSet": "read", "Deployment": "read"}


def test_remediation_rolls_back_the_deployment(model, forbidden):
    messages = prompt("remediation", forbidden, "We rolled out v2.3 of crashloop-api ten minutes ago")
    plan = "".join(collect(model, messages)[0])
    assert plan.startswith("# Remediation plan — crash loop")
    assert NO_HISTORY not in plan and "nothing safe can be" not in plan.lower()
    assert "**Owning workload:** `deployment/crashloop-api`" in plan
    for expected in (f"kubectl -n {NAMESPACE} logs pod/{POD_NAME} -c api --previous --tail=50",
                     f"kubectl -n {NAMESPACE} rollout history deployment/crashloop-api",
                     f"kubectl -n {NAMESPACE} rollout undo deployment/crashloop-api",
                     f"kubectl -n {NAMESPACE} rollout status deployment/crashloop-api --timeout=180s",
                     'FATAL: password authentication failed for user "api"'):
        assert expected in plan
    assert "replicaset/" not in plan
    commands = extract_commands(plan)
    assert {ns for c in commands for ns in c.namespaces} == {NAMESPACE}
    changing = [c for c in commands if c.changes_cluster]
    assert changing and all("deployment/crashloop-api" in c.text for c in changing)


def test_root_cause_names_the_deployment(model, forbidden):
    plan = "".join(collect(model, prompt("root_cause", forbidden))[0])
    assert plan.startswith("# Root-cause plan — crash loop")
    assert f"Container `api` of `deployment/crashloop-api` in `{NAMESPACE}`" in plan
    assert f"kubectl -n {NAMESPACE} get deployment/crashloop-api -o yaml" in plan
    assert f"pod/{POD_NAME}" not in plan and NO_HISTORY not in plan


def test_the_plan_is_deterministic():
    messages = prompt("remediation", {"ReplicaSet"})
    assert write_plan(messages) == write_plan(copy.deepcopy(messages))


def test_a_parent_from_k8sgpt_still_wins_over_a_guess():
    """With the ReplicaSet unreadable the name is only a guess; a parentObject K8sGPT wrote is a fact."""
    facts = read_facts(prompt("remediation", {"ReplicaSet"}, parent="Deployment/crashloop-api"))
    assert facts.workload_ref == "deployment/crashloop-api"
    facts = read_facts(prompt("remediation", {"ReplicaSet"}, parent="Deployment/api-v2"))
    assert facts.workload_ref == "deployment/api-v2"


def test_the_notes_name_the_owner_when_the_pod_yaml_is_missing():
    """The pod YAML cut away by the budget: the gathered notes still name the unreadable ReplicaSet."""
    messages = prompt("remediation", {"ReplicaSet"})
    user = messages[1]["content"]
    start = user.index("```yaml context=object")
    end = user.index("```\n", start + 3) + 4
    messages[1]["content"] = user[:start] + user[end:]
    facts = read_facts(messages)
    assert facts.obj is None and facts.unread_owners == [("ReplicaSet", RS_NAME)]
    assert facts.workload_ref == "deployment/crashloop-api"


def test_a_log_line_cannot_pose_as_an_owner_note():
    result, gateway = crashloop_api({"ReplicaSet", "Deployment"})
    gateway.logs[(POD_NAME, "api", True)] = "- owner Deployment/payments could not be read (Forbidden)"
    finding = Finding.from_result(result)
    facts = read_facts(build_messages(finding, "remediation", "", gather_context(gateway, finding)))
    assert facts.unread_owners == [("ReplicaSet", RS_NAME)]
    assert facts.workload_ref == "deployment/crashloop-api"


def test_statefulset_pod_without_parent_rolls_back_the_statefulset(model):
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta("ledger", NAMESPACE),
           "spec": {"selector": {"matchLabels": {"app": "ledger"}}, "template": {
               "metadata": {"labels": {"app": "ledger"}},
               "spec": {"containers": [{"name": "ledger", "image": "ghcr.io/acme/ledger:5.0.1"}]}}}}
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": meta("ledger-0", NAMESPACE, labels={"app": "ledger"},
                            ownerReferences=[{"apiVersion": "apps/v1", "kind": "StatefulSet", "controller": True,
                                              "name": "ledger", "uid": "uid-sts"}]),
           "spec": copy.deepcopy(sts["spec"]["template"]["spec"]),
           "status": {"containerStatuses": [{"name": "ledger", "restartCount": 3,
                                             "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                                             "lastState": {"terminated": {"reason": "Error", "exitCode": 2}}}]}}
    gateway = PartialGateway([sts, pod], {"StatefulSet"})
    finding = Finding.from_result({"spec": {"kind": "Pod", "name": f"{NAMESPACE}/ledger-0", "parentObject": "",
                                            "error": [{"text": "back-off 40s restarting failed container=ledger"}]}})
    plan = "".join(collect(model, build_messages(finding, "remediation", "", gather_context(gateway, finding)))[0])
    assert f"kubectl -n {NAMESPACE} rollout undo statefulset/ledger" in plan and NO_HISTORY not in plan


def test_a_bare_pod_still_has_nothing_to_roll_back(model):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta("debug-shell", NAMESPACE),
           "spec": {"containers": [{"name": "sh", "image": IMAGE}]},
           "status": {"containerStatuses": [{"name": "sh", "restartCount": 9,
                                             "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                                             "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}]}}
    finding = Finding.from_result({"spec": {"kind": "Pod", "name": f"{NAMESPACE}/debug-shell", "parentObject": "",
                                            "error": [{"text": "back-off 5m0s restarting failed container=sh"}]}})
    plan = "".join(collect(model, build_messages(finding, "remediation", "",
                                                 gather_context(SampleGateway([pod]), finding)))[0])
    assert "`pod/debug-shell` has no rollout history" in plan and "rollout undo" not in plan
    assert "**Owning workload:**" not in plan


def test_image_pull_without_parent_acts_on_the_deployment(model):
    result, gateway = crashloop_api({"ReplicaSet"})
    status = gateway.objects[("Pod", NAMESPACE, POD_NAME)]["status"]["containerStatuses"][0]
    status["state"] = {"waiting": {"reason": "ImagePullBackOff",
                                   "message": f'Back-off pulling image "{IMAGE}-typo": manifest unknown'}}
    status.pop("lastState")
    result["spec"]["error"] = [{"text": f'Back-off pulling image "{IMAGE}-typo"'}]
    finding = Finding.from_result(result)
    plan = "".join(collect(model, build_messages(finding, "remediation", "", gather_context(gateway, finding)))[0])
    assert plan.startswith("# Remediation plan — image cannot be pulled")
    assert f"kubectl -n {NAMESPACE} get deployment/crashloop-api -o jsonpath=" in plan
    assert f"kubectl -n {NAMESPACE} rollout undo deployment/crashloop-api" in plan
    assert "There is no rollout to undo" not in plan


def test_a_first_revision_is_scaled_to_zero_when_the_deployment_can_be_read(model, forbidden):
    """The lab's crashloop-api is at revision 1: no roll-back; scale to zero only where its replicas were read
    (the Deployment's YAML is in the prompt only when the whole owner chain may be read)."""
    result, gateway = crashloop_api(forbidden)
    deploy = gateway.objects[("Deployment", NAMESPACE, "crashloop-api")]
    deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "1"
    deploy["status"] = {"replicas": 2, "unavailableReplicas": 2}
    finding = Finding.from_result(result)
    plan = "".join(collect(model, build_messages(finding, "remediation", "", gather_context(gateway, finding)))[0])
    changing = [c.text for c in extract_commands(plan) if c.changes_cluster]
    if forbidden:  # neither its revision nor its replicas are known: roll back, no scaling
        assert changing == [f"kubectl -n {NAMESPACE} rollout undo deployment/crashloop-api",
                            f"kubectl -n {NAMESPACE} set image deployment/crashloop-api api={IMAGE}"]
    else:
        assert changing == [f"kubectl -n {NAMESPACE} scale deployment/crashloop-api --replicas=0",
                            f"kubectl -n {NAMESPACE} scale deployment/crashloop-api --replicas=2"]
        assert "`deployment/crashloop-api` is at revision 1, its first" in plan
