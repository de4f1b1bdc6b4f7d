"""Realistic Kubernetes objects, events and logs for the planning tests, and a gateway over them.

`SampleGateway` implements the three methods `app.plans.core.context` documents; the real one is
the cluster gateway's per-user client (exercised against the lab by the integration tests).
"""

from __future__ import annotations

import copy

PLANTED_PASSWORD = "hunter2-Planted-Secret-7731"
PLANTED_TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlLXBsYW50ZWQtNzczMQ"


class Missing(Exception):
    """Stands in for the gateway's NotFound."""


class SampleGateway:
    def __init__(self, objects=(), events=None, logs=None):
        self.objects = {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in objects}
        self.events = events or {}
        self.logs = logs or {}
        self.calls = []

    def get_object(self, kind, namespace, name):
        self.calls.append(("get_object", kind, namespace, name))
        try:
            return copy.deepcopy(self.objects[(kind, namespace, name)])
        except KeyError:
            raise Missing(f"{kind} {namespace}/{name} not found") from None

    def list_events(self, namespace, kind, name):
        self.calls.append(("list_events", kind, namespace, name))
        return copy.deepcopy(self.events.get((kind, name), []))

    def list_objects(self, kind, namespace, label_selector, limit):
        self.calls.append(("list_objects", kind, namespace, label_selector))
        wanted = dict(pair.split("=", 1) for pair in label_selector.split(",") if pair)
        found = [o for (k, ns, _), o in self.objects.items() if k == kind and ns == namespace
                 and wanted.items() <= ((o["metadata"].get("labels") or {}).items())]
        return copy.deepcopy(found[:limit])

    def read_pod_log(self, namespace, name, container, previous, tail_lines):
        self.calls.append(("read_pod_log", name, container, previous, tail_lines))
        try:
            text = self.logs[(name, container, previous)]
        except KeyError:
            raise Missing("previous terminated container not found") from None
        return "\n".join(text.splitlines()[-tail_lines:]) + "\n"


def meta(name, namespace, **extra):
    return {"name": name, "namespace": namespace, "uid": f"uid-{name}", "resourceVersion": "4711",
            "creationTimestamp": "2026-11-26T10:00:00Z",
            "managedFields": [{"manager": "kubectl-client-side-apply", "operation": "Update",
                               "fieldsV1": {"f:spec": {}}}], **extra}


def deployment(name, namespace, image, containers=None, **template_spec):
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta(name, namespace, labels=labels,
                             annotations={"meta.helm.sh/release-name": name, "deployment.kubernetes.io/revision": "4"}),
            "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": containers or [{"name": name, "image": image}], **template_spec}}}}


def replicaset(deploy, suffix="7d9f8c6b5"):
    name = f"{deploy['metadata']['name']}-{suffix}"
    spec = copy.deepcopy(deploy["spec"])
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": meta(name, deploy["metadata"]["namespace"],
                             ownerReferences=[{"apiVersion": "apps/v1", "kind": "Deployment", "controller": True,
                                               "name": deploy["metadata"]["name"], "uid": "uid-d"}]),
            "spec": spec}


def pod(rs, suffix, status, containers=None):
    name = f"{rs['metadata']['name']}-{suffix}"
    spec = copy.deepcopy(rs["spec"]["template"]["spec"])
    if containers:
        spec["containers"] = containers
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": meta(name, rs["metadata"]["namespace"], labels={"app": rs["metadata"]["name"].rsplit("-", 1)[0],
                                                                          "pod-template-hash": "7d9f8c6b5"},
                             ownerReferences=[{"apiVersion": "apps/v1", "kind": "ReplicaSet", "controller": True,
                                               "name": rs["metadata"]["name"], "uid": "uid-rs"}]),
            "spec": spec, "status": status}


def event(reason, message, when, type_="Warning", count=1):
    return {"type": type_, "reason": reason, "message": message, "count": count, "lastTimestamp": when,
            "metadata": {"creationTimestamp": when}}


def crash_loop():
    """team-a/checkout: 2.3.0 exits at start-up; its env carries secrets in every possible way."""
    containers = [{"name": "checkout", "image": "ghcr.io/acme/checkout:2.3.0",
                   "env": [{"name": "DB_PASSWORD", "value": PLANTED_PASSWORD,
                            "valueFrom": {"secretKeyRef": {"name": "checkout-db", "key": "password"}}},
                           {"name": "STRIPE_API_KEY", "value": "sk-live-PlantedValue0123456789abcdef"},
                           {"name": "LOG_LEVEL", "value": "debug"}]}]
    deploy = deployment("checkout", "team-a", "ghcr.io/acme/checkout:2.3.0", containers)
    rs = replicaset(deploy)
    status = {"phase": "Running", "containerStatuses": [{
        "name": "checkout", "ready": False, "restartCount": 7, "image": "ghcr.io/acme/checkout:2.3.0",
        "state": {"waiting": {"reason": "CrashLoopBackOff",
                              "message": "back-off 5m0s restarting failed container=checkout pod=checkout-7d9f8c6b5-x2x9q"}},
        "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}]}
    p = pod(rs, "x2x9q", status)
    previous = "\n".join([f"2026-11-26T11:0{i}:00Z INFO warming cache shard {i}" for i in range(8)] + [
        f"2026-11-26T11:09:00Z DEBUG db connect postgres://checkout:{PLANTED_PASSWORD}@db.team-a:5432/orders",
        f"2026-11-26T11:09:01Z DEBUG auth header Authorization: Bearer {PLANTED_TOKEN}",
        "2026-11-26T11:09:02Z FATAL config: required setting PAYMENT_GATEWAY_URL is missing"])
    gateway = SampleGateway(
        [deploy, rs, p],
        events={("Pod", p["metadata"]["name"]): [
            event("Pulled", "Container image \"ghcr.io/acme/checkout:2.3.0\" already present on machine",
                  "2026-11-26T11:00:00Z", "Normal", 7),
            event("BackOff", "Back-off restarting failed container checkout in pod checkout-7d9f8c6b5-x2x9q",
                  "2026-11-26T11:10:00Z", count=31)]},
        logs={(p["metadata"]["name"], "checkout", True): previous,
              (p["metadata"]["name"], "checkout", False): "2026-11-26T11:10:00Z INFO starting checkout 2.3.0"})
    result = {"spec": {"kind": "Pod", "name": f"team-a/{p['metadata']['name']}", "parentObject": "Deployment/checkout",
                       "error": [{"text": "back-off 5m0s restarting failed container=checkout pod="
                                          "checkout-7d9f8c6b5-x2x9q_team-a(uid-x)", "sensitive": []}], "details": ""}}
    return result, gateway


def image_pull():
    deploy = deployment("web", "team-b", "registry.example.com/acme/web:v9.9.9-typo")
    rs = replicaset(deploy, "5c4f6d7b8")
    status = {"phase": "Pending", "containerStatuses": [{
        "name": "web", "ready": False, "restartCount": 0, "image": "registry.example.com/acme/web:v9.9.9-typo",
        "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image "
                              "\"registry.example.com/acme/web:v9.9.9-typo\": manifest unknown"}}}]}
    p = pod(rs, "k7m2p", status)
    result = {"spec": {"kind": "Pod", "name": f"team-b/{p['metadata']['name']}", "parentObject": "Deployment/web",
                       "error": [{"text": "Back-off pulling image \"registry.example.com/acme/web:v9.9.9-typo\""}]}}
    return result, SampleGateway([deploy, rs, p])


def oom():
    containers = [{"name": "worker", "image": "ghcr.io/acme/report-worker:1.4.2",
                   "resources": {"limits": {"memory": "64Mi"}, "requests": {"memory": "32Mi", "cpu": "50m"}}}]
    deploy = deployment("report-worker", "team-c", "ghcr.io/acme/report-worker:1.4.2", containers)
    rs = replicaset(deploy)
    status = {"phase": "Running", "containerStatuses": [{
        "name": "worker", "ready": False, "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}
    p = pod(rs, "q8w4e", status)
    result = {"spec": {"kind": "Pod", "name": f"team-c/{p['metadata']['name']}", "parentObject": "Deployment/report-worker",
                       "error": [{"text": "the last termination reason is OOMKilled container=worker "
                                          f"pod={p['metadata']['name']}"}]}}
    return result, SampleGateway([deploy, rs, p])


def pvc_pending():
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
           "metadata": meta("data-ledger-0", "team-a", labels={"app": "ledger"}),
           "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast-ssd",
                    "resources": {"requests": {"storage": "5Gi"}}},
           "status": {"phase": "Pending"}}
    events = {("PersistentVolumeClaim", "data-ledger-0"): [event(
        "ProvisioningFailed", 'storageclass.storage.k8s.io "fast-ssd" not found', "2026-11-26T11:05:00Z", count=12)]}
    result = {"spec": {"kind": "PersistentVolumeClaim", "name": "team-a/data-ledger-0",
                       "error": [{"text": 'storageclass.storage.k8s.io "fast-ssd" not found'}]}}
    return result, SampleGateway([pvc], events=events)


def service_no_endpoints():
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": meta("payments", "team-b"),
           "spec": {"type": "ClusterIP", "selector": {"app": "payments-api"},
                    "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}
    result = {"spec": {"kind": "Service", "name": "team-b/payments",
                       "error": [{"text": "Service has no endpoints, expected label app=payments-api",
                                  "sensitive": [{"unmasked": "app", "masked": "YXBw"},
                                                {"unmasked": "payments-api", "masked": "cGF5bWVudHMtYXBp"}]}]}}
    return result, SampleGateway([svc])


def ingress_backend_missing():
    ing = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta("shop", "team-c"),
           "spec": {"ingressClassName": "nginx", "rules": [{"host": "shop.example.com", "http": {"paths": [
               {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "storefront", "port": {"number": 80}}}},
               {"path": "/api", "pathType": "Prefix", "backend": {"service": {"name": "shop-api", "port": {"number": 8080}}}}]}}]}}
    result = {"spec": {"kind": "Ingress", "name": "team-c/shop",
                       "error": [{"text": "Ingress uses the service team-c/shop-api which does not exist."}]}}
    return result, SampleGateway([ing])


def cronjob_schedule():
    cj = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta("nightly-report", "team-a"),
          "spec": {"schedule": "0 0 2 * * *", "jobTemplate": {"spec": {"template": {"spec": {
              "restartPolicy": "OnFailure", "containers": [{"name": "report", "image": "ghcr.io/acme/report:3.1.0"}]}}}}}}
    result = {"spec": {"kind": "CronJob", "name": "team-a/nightly-report",
                       "error": [{"text": "CronJob nightly-report has an invalid schedule: 0 0 2 * * *"}]}}
    return result, SampleGateway([cj])


def unschedulable():
    containers = [{"name": "trainer", "image": "ghcr.io/acme/trainer:0.9.0",
                   "resources": {"requests": {"cpu": "64", "memory": "1Gi"}}}]
    deploy = deployment("trainer", "team-b", "ghcr.io/acme/trainer:0.9.0", containers)
    rs = replicaset(deploy)
    p = pod(rs, "z1z2z", {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
                                                             "reason": "Unschedulable"}]})
    message = "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available"
    events = {("Pod", p["metadata"]["name"]): [event("FailedScheduling", message, "2026-11-26T11:06:00Z", count=9)]}
    result = {"spec": {"kind": "Pod", "name": f"team-b/{p['metadata']['name']}", "parentObject": "Deployment/trainer",
                       "error": [{"text": message}]}}
    return result, SampleGateway([deploy, rs, p], events=events)


def general():
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("feature-flags", "team-c"),
          "data": {"flags.yaml": "checkout: true\n"}}
    result = {"spec": {"kind": "ConfigMap", "name": "team-c/feature-flags",
                       "error": [{"text": "ConfigMap feature-flags is not used by any pods in the namespace"}]}}
    return result, SampleGateway([cm])


CASES = {"crash_loop": crash_loop, "image_pull": image_pull, "oom": oom, "pvc_pending": pvc_pending,
         "service_no_endpoints": service_no_endpoints, "ingress_backend_missing": ingress_backend_missing,
         "cronjob_schedule": cronjob_schedule, "unschedulable": unschedulable, "general": general}
