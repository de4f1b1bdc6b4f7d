"""The scenarios: a chart, the finding it produces, the causes a reviewer accepts, the intended state.

Charts live in charts/known-issues (the lab's own known issues) or eval/charts (failures the lab does
not show by itself); tests/support/remedy.py installs a copy of one per scenario.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from tests.support.remedy import Scenario as Copy

# (kube, namespace) -> (in the intended state?, what was seen)
StateCheck = Callable[[object, str], tuple[bool, str]]


@dataclass(frozen=True)
class Scenario:
    name: str
    copy: Copy  # chart, finding kind, object name prefix
    causes: tuple[str, ...]  # regexes (case-insensitive); the plan must match one
    intended: str  # the intended state, in words
    check: StateCheck

    def diagnosed(self, plan: str) -> bool:
        return any(re.search(cause, plan, re.I | re.S) for cause in self.causes)


def _deployment(kube, namespace: str, name: str) -> dict:
    return kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}")


def _pods(kube, namespace: str, prefix: str) -> list[dict]:
    items = kube.get(f"/api/v1/namespaces/{namespace}/pods")["items"]
    return [p for p in items if p["metadata"]["name"].startswith(prefix) and not p["metadata"].get("deletionTimestamp")]


def available(name: str) -> StateCheck:
    """The Deployment serves: every wanted replica available, and it wants at least one."""
    def check(kube, namespace):
        status = _deployment(kube, namespace, name).get("status", {})
        wanted, ready = status.get("replicas", 0), status.get("availableReplicas", 0)
        return wanted >= 1 and ready >= wanted, f"{ready}/{wanted} available"
    return check


def stopped_or_available(name: str) -> StateCheck:
    """Stopping the bleeding is the intended remediation when the cause is outside the cluster (a
    rotated password, a bug): no pod of the Deployment left failing, scaled to zero or serving."""
    def check(kube, namespace):
        deployment = _deployment(kube, namespace, name)
        wanted = deployment["spec"].get("replicas", 1)
        ready = deployment.get("status", {}).get("availableReplicas", 0)
        return wanted == 0 or ready >= wanted, f"replicas {wanted}, {ready} available"
    return check


def service_has_endpoints(name: str) -> StateCheck:
    """Ready endpoints with a port to send traffic to. A slice without ports still lists the selected pods as
    ready (a named targetPort no pod declares), but nothing reaches them: kube-proxy has no port to route."""
    def check(kube, namespace):
        slices = kube.get(f"/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices",
                          labelSelector=f"kubernetes.io/service-name={name}")["items"]
        ready = sum(1 for s in slices if s.get("ports") for e in s.get("endpoints") or []
                    if (e.get("conditions") or {}).get("ready"))
        return ready >= 1, f"{ready} ready endpoints"
    return check


def cronjob_resumed(name: str) -> StateCheck:
    def check(kube, namespace):
        suspended = kube.get(f"/apis/batch/v1/namespaces/{namespace}/cronjobs/{name}")["spec"].get("suspend")
        return suspended is not True, f"suspend={suspended}"
    return check


def pvc_bound_or_valid_class(name: str) -> StateCheck:
    """The claim asks for a storage class that exists (the lab has no provisioner to bind it)."""
    def check(kube, namespace):
        claim = kube.get(f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}")
        wanted = claim["spec"].get("storageClassName")
        classes = {c["metadata"]["name"] for c in kube.get("/apis/storage.k8s.io/v1/storageclasses")["items"]}
        return wanted in classes, f"storageClassName={wanted}"
    return check


def ingress_backend_exists(name: str) -> StateCheck:
    def check(kube, namespace):
        ingress = kube.get(f"/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses/{name}")
        services = {s["metadata"]["name"] for s in kube.get(f"/api/v1/namespaces/{namespace}/services")["items"]}
        backends = [p["backend"]["service"]["name"] for r in ingress["spec"].get("rules", [])
                    for p in (r.get("http") or {}).get("paths", []) if "service" in p.get("backend", {})]
        return bool(backends) and set(backends) <= services, f"backends {backends}"
    return check


def hpa_target_exists(name: str) -> StateCheck:
    def check(kube, namespace):
        ref = kube.get(f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/{name}")["spec"][
            "scaleTargetRef"]
        names = {d["metadata"]["name"] for d in kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments")["items"]}
        return ref["kind"] == "Deployment" and ref["name"] in names, f"scales {ref['kind']}/{ref['name']}"
    return check


def job_completed(name: str) -> StateCheck:
    """The Job ran to completion: a Job that failed is never run again by itself, so it was created anew."""
    def check(kube, namespace):
        status = kube.get(f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}").get("status", {})
        return status.get("succeeded", 0) >= 1 and not status.get("failed"), \
            f"succeeded {status.get('succeeded', 0)}, failed {status.get('failed', 0)}"
    return check


def pod_and_deployment(stem: str, chart: str, pod_prefix: str, deployment: str, causes: tuple[str, ...],
                       intended: str, check: StateCheck) -> tuple[Scenario, Scenario]:
    """A chart's two findings, on its pod and on its Deployment: the same cause, the same intended state."""
    return (Scenario(f"{stem}-pod", Copy(chart, "Pod", pod_prefix), causes, intended, check),
            Scenario(f"{stem}-deployment", Copy(chart, "Deployment", deployment), causes, intended, check))


# Each cause is what a reviewer would accept as the diagnosis: the mechanism and the object it is about,
# not the finding's own words (a plan that repeats "OOMKilled" or "CrashLoopBackOff" has not diagnosed).
SCENARIOS: list[Scenario] = [
    *pod_and_deployment("crashloop", "crashloop-api", "crashloop-api-", "crashloop-api",
                       (r"password authentication failed", r"(database|db|postgres)\S* (password|credential)"),
                       "no pod crash-looping (scaled to zero until the database password is fixed)",
                       stopped_or_available("crashloop-api")),
    *pod_and_deployment("bad-image", "bad-image", "bad-image-", "bad-image",
                       (r"0\.0\.0-does-not-exist.{0,120}(does not exist|not found|never pushed|typo|cannot be pulled)",
                        r"(tag|image)\S* .{0,60}(does not exist|not found|was never pushed)"),
                       "serving again on an image that exists", available("bad-image")),
    *pod_and_deployment("oom", "oom-worker", "oom-worker-", "oom-worker",
                       (r"(allocat\w*|512\s?Mi\w*|536870912).{0,120}limit", r"limit.{0,120}(allocat\w*|512\s?Mi\w*|536870912)"),
                       "running with a memory limit above what it allocates", available("oom-worker")),
    Scenario("service-no-endpoints", Copy("orphan-service", "Service", "payments"),
             (r"selector.{0,160}(matches no|no (ready )?pods?|carr(y|ies) (those|these|the) labels)",
              r"no (ready )?pods?.{0,80}(carr\w+|match\w*|ha(s|ve)) (those|these|the|its)? ?(labels|selector)"),
             "the Service has ready endpoints", service_has_endpoints("payments")),
    Scenario("service-wrong-target-port", Copy("wrong-target-port", "Service", "catalog"),
             (r"target ?port.{0,160}(no container|not declare|declares? no|lack|does not (exist|match))",
              r"target ?port.{0,40}`?web`?.{0,160}(http|declare)"),
             "the Service has ready endpoints", service_has_endpoints("catalog")),
    *pod_and_deployment("unschedulable", "unschedulable", "gpu-trainer-", "gpu-trainer",
                       (r"node ?selector.{0,160}(matches no|no node)", r"no node.{0,80}(label|selector|match)"),
                       "scheduled and serving", available("gpu-trainer")),
    Scenario("suspended-cronjob", Copy("suspended-cronjob", "CronJob", "nightly-report"),
             (r"spec\.suspend", r"suspend: true", r"(is|was|been) suspended.{0,120}(no jobs?|creates no|resum)"),
             "resumed", cronjob_resumed("nightly-report")),
    *pod_and_deployment("not-ready", "not-ready", "checkout-", "checkout",
                       (r"probe.{0,80}port \d+.{0,120}(declare|listen|serv)", r"port \d+.{0,80}probe"),
                       "ready and serving", available("checkout")),
    Scenario("pvc-missing-class", Copy("pvc-missing-class", "PersistentVolumeClaim", "reports-data"),
             (r"storage ?class.{0,120}(no provisioner|does not exist|doesn't exist|not found|missing)",),
             "the claim asks for a storage class that exists", pvc_bound_or_valid_class("reports-data")),
    Scenario("ingress-missing-service", Copy("ingress-missing-service", "Ingress", "shop"),
             (r"shop-frontend.{0,80}(does not exist|not found|missing)", r"(missing|no such|nonexistent) service"),
             "every backend of the Ingress is a Service that exists", ingress_backend_exists("shop")),
    *pod_and_deployment("config-key", "missing-config-key", "orders-", "orders",
                       (r"DATABASE_HOST.{0,160}(no such key|not (hold|contain|have)|does not exist|missing|renamed)",
                        r"database-host.{0,160}DATABASE_HOST|DATABASE_HOST.{0,160}database-host"),
                       "running, its environment taken from keys the ConfigMap holds", available("orders")),
    Scenario("hpa-missing-target", Copy("hpa-missing-target", "HorizontalPodAutoscaler", "inventory"),
             (r"(scale ?target\w*|scaleTargetRef).{0,160}(does not exist|not found|missing|renamed)",
              r"inventory-api.{0,160}(renamed|instead|meant)"),
             "the HPA scales the Deployment that exists", hpa_target_exists("inventory")),
    Scenario("job-backoff-limit", Copy("job-backoff", "Job", "nightly-export"),
             (r"(OOM.?kill\w*|out of memory|memory limit).{0,300}(700|allocat)",
              r"(700|allocat\w*).{0,200}(memory )?limit"),
             "run to completion, created again with a memory limit above what it loads",
             job_completed("nightly-export")),
]
BY_NAME = {s.name: s for s in SCENARIOS}
