"""What the two security sweeps share: test-made namespaces holding one object of every kind the
app supports, crafted K8sGPT Results, and granting through the admin portal over HTTP.

Every object carries ``codex-test=sweep`` and is deleted when the namespaces go; the Results (in
the K8sGPT namespace) are deleted by that label too. Names are unique per run (random hex), so a
name or marker found in a response can only have come from the object it names.
"""

from __future__ import annotations

import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from app.cluster.gateway import ClusterError
from app.kinds import KIND_NAMES, get_kind
from tests.support.http_session import HTTP_TIMEOUT, HttpSession
from tests.support.lab_kube import RESULTS, result_body
from tests.support.lab_namespaces import lab_namespaces

LABEL = {"codex-test": "sweep"}
PASSWORD = "correct horse battery staple"
# Short kind words for object names (pods -> "pod"): names read as what they are in a report.
SHORT = {"pods": "pod", "deployments": "deployment", "statefulsets": "statefulset",
         "daemonsets": "daemonset", "replicasets": "replicaset", "jobs": "job", "cronjobs": "cronjob",
         "horizontalpodautoscalers": "hpa", "services": "service", "ingresses": "ingress", "configmaps": "configmap",
         "persistentvolumeclaims": "pvc", "events": "event", "secrets": "secret"}


def token(prefix: str) -> str:
    """A unique lower-case word, e.g. ``secretname-3f9a0c1b7e``: a substring of nothing else."""
    return f"{prefix}-{secrets.token_hex(5)}"


# -- namespaces and objects -------------------------------------------------------------------


@dataclass
class LabObject:
    """One test-made object: its kind (grant name), where it lives, and what only it contains."""

    kind: str
    namespace: str
    name: str
    marker: str  # in an annotation (and the data of a ConfigMap, the message of an Event)
    secret_value: str = ""  # Secrets only: the value that must never be shown


def sweep_namespaces(kube, *names: str):
    """Create the namespaces (labelled test-made), wait until pods may be made; delete them and
    every Result labelled ``codex-test=sweep`` afterwards."""
    return lab_namespaces(kube, names, LABEL)


def _meta(name, marker, annotations=None, labels=None):
    return {"name": name, "labels": {**LABEL, **(labels or {})},
            "annotations": {"codex-test/marker": marker, **(annotations or {})}}


# Requests and limits: an HPA aimed at a workload whose containers lack them is a finding of its own.
POD_SPEC = {"automountServiceAccountToken": False,
            "containers": [{"name": "app", "image": "registry.example/sweep:1.0",
                            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "32Mi"}}}]}
# No fake node matches: a workload made here never starts pods of its own.
IDLE_POD_SPEC = {**POD_SPEC, "nodeSelector": {"codex-test/no-such-node": "true"}}


def _template(app_label):
    return {"metadata": {"labels": {**LABEL, "app": app_label}}, "spec": IDLE_POD_SPEC}


def manifest(obj: LabObject, *, pod: str, service: str, deployment: str = "", annotations=None, labels=None,
             event_message=None, event_reason="SweepProbe", data=None) -> dict:
    """The body that creates ``obj``. ``pod``, ``service`` and ``deployment`` name the namespace's Pod,
    Service and Deployment (an Event is about the Pod, an Ingress routes to the Service, an HPA scales the
    Deployment)."""
    meta = _meta(obj.name, obj.marker, annotations, labels)
    selector = {"matchLabels": {"app": obj.name}}
    body = {
        "pods": lambda: {"spec": POD_SPEC},
        "deployments": lambda: {"spec": {"replicas": 0, "selector": selector,
                                         "template": _template(obj.name)}},
        "statefulsets": lambda: {"spec": {"replicas": 0, "serviceName": service, "selector": selector,
                                          "template": _template(obj.name)}},
        "daemonsets": lambda: {"spec": {"selector": selector, "template": _template(obj.name)}},
        "replicasets": lambda: {"spec": {"replicas": 0, "selector": selector,
                                         "template": _template(obj.name)}},
        "jobs": lambda: {"spec": {"suspend": True, "template": {
            "metadata": {"labels": dict(LABEL)},
            "spec": {**IDLE_POD_SPEC, "restartPolicy": "Never"}}}},
        "cronjobs": lambda: {"spec": {"schedule": "0 0 1 1 *", "suspend": True, "jobTemplate": {"spec": {
            "template": {"metadata": {"labels": dict(LABEL)},
                         "spec": {**IDLE_POD_SPEC, "restartPolicy": "Never"}}}}}},
        "horizontalpodautoscalers": lambda: {"spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
            "minReplicas": 1, "maxReplicas": 2}},
        "services": lambda: {"spec": {"selector": {"app": obj.name}, "ports": [{"port": 80}]}},
        "ingresses": lambda: {"spec": {"rules": [{"http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": service, "port": {"number": 80}}}}]}}]}},
        "configmaps": lambda: {"data": {"marker": obj.marker, **(data or {})}},
        "persistentvolumeclaims": lambda: {"spec": {
            "accessModes": ["ReadWriteOnce"], "storageClassName": "codex-sweep-none",
            "resources": {"requests": {"storage": "1Mi"}}}},
        "events": lambda: {
            "involvedObject": {"kind": "Pod", "name": pod, "namespace": obj.namespace, "apiVersion": "v1"},
            "reason": event_reason, "message": event_message or f"probe {obj.marker}", "type": "Warning",
            "count": 1, "firstTimestamp": "2026-11-26T10:00:00Z", "lastTimestamp": "2026-11-26T10:00:00Z",
            "source": {"component": "codex-sweep"}},
        "secrets": lambda: {"stringData": {"value": obj.secret_value}},
    }[obj.kind]()
    return {"metadata": meta, **body}


def create_object(kube, obj: LabObject, **manifest_options) -> None:
    """Create one object (idempotent); fail the test with the API server's reason otherwise."""
    path = get_kind(obj.kind).collection_path(obj.namespace)
    try:
        kube.create(path, manifest(obj, **manifest_options))
    except ClusterError as exc:
        pytest.fail(f"creating {obj.kind} {obj.namespace}/{obj.name}: {exc.message}")


def one_of_every_kind(namespace: str) -> dict[str, LabObject]:
    """Plan one object per supported kind in ``namespace`` (``<kind>name-<hex>``)."""
    objects = {}
    for kind in KIND_NAMES:
        objects[kind] = LabObject(kind, namespace, token(f"{SHORT[kind]}name"), token(f"{SHORT[kind]}mark"),
                                  secret_value=token("secretvalue") if kind == "secrets" else "")
    return objects


def create_all(kube, objects: dict[str, LabObject], **manifest_options) -> None:
    """Create the planned objects: the rest refer to the Pod, the Service and the Deployment by name."""
    pod, service, deployment = objects["pods"].name, objects["services"].name, objects["deployments"].name
    for kind in KIND_NAMES:
        create_object(kube, objects[kind], pod=pod, service=service, deployment=deployment, **manifest_options)


def sweep_result(name, kind, object_ref, errors, details="", parent=""):
    """A crafted K8sGPT Result labelled ``codex-test=sweep`` with one or more error texts."""
    body = result_body(name, kind, object_ref, errors[0], labels=LABEL, details=details, parent=parent)
    body["spec"]["error"] = [{"text": text} for text in errors]
    return body


def results_about(kube, namespace: str) -> list[dict]:
    """Every Result (crafted or K8sGPT's own) whose ``spec.name`` is in ``namespace``."""
    items = kube.get(RESULTS).get("items", [])
    return [r for r in items if str((r.get("spec") or {}).get("name") or "").startswith(namespace + "/")]


# -- the app under gunicorn, over HTTP --------------------------------------------------------


def admin_grant(admin: HttpSession, user_id: int, namespace: str, kinds=KIND_NAMES) -> None:
    """Grant kinds in a namespace through the admin portal, as an administrator would."""
    response = admin.post(f"/admin/users/{user_id}/grants", {"namespace": namespace, "kinds": list(kinds)})
    assert response.status_code == 303, response.text[:500]
    page = admin.http.get(admin.url(f"/admin/users/{user_id}"), timeout=HTTP_TIMEOUT).text
    assert namespace in page and "synced" in page, f"the grant of {namespace} did not sync:\n{page[:2000]}"


@dataclass
class Timer:
    """Wall-clock time of named phases, for the run-time line the sweeps print."""

    started: float = field(default_factory=time.monotonic)
    phases: dict = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str):
        start = time.monotonic()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.monotonic() - start

    def summary(self) -> str:
        parts = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in self.phases.items())
        return f"{time.monotonic() - self.started:.1f}s in all ({parts})"
