"""The detail view's YAML: no managed fields, never a secret value."""

from app.kinds import get_kind, resolve_alias
from app.resources.format import human_age, parse_time, row_cells
from app.resources.yaml_view import object_yaml


def test_managed_fields_are_dropped_and_order_is_kubectl_like():
    text = object_yaml(get_kind("configmaps"), {
        "data": {"k": "v"},
        "metadata": {"name": "cm", "managedFields": [{"manager": "kubectl"}]}})
    assert "managedFields" not in text and "kubectl" not in text
    assert text.splitlines()[:2] == ["apiVersion: v1", "kind: ConfigMap"]


def test_secret_values_are_never_rendered():
    text = object_yaml(get_kind("secrets"), {
        "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
        "data": {"password": "c3VwZXJzZWNyZXQ="}, "stringData": {"token": "supersecret"},
        "metadata": {"name": "db", "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"password":"c3Vw"}}'}}})
    assert "c3VwZXJzZWNyZXQ=" not in text and "supersecret" not in text and "c3Vw" not in text
    assert "kind: Secret" in text


def test_k9s_aliases_resolve():
    assert resolve_alias("po").name == "pods"
    assert resolve_alias("dp").name == resolve_alias("deploy").name == "deployments"
    assert resolve_alias("ev").name == "events"
    assert resolve_alias("nope") is None


def test_pod_cells_match_kubectl():
    pod = {"metadata": {"name": "p", "creationTimestamp": "2026-11-26T10:00:00Z"},
           "spec": {"containers": [{}, {}], "nodeName": "kwok-1"},
           "status": {"phase": "Running", "containerStatuses": [
               {"ready": True, "restartCount": 3, "state": {"running": {}}},
               {"ready": False, "restartCount": 4,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}
    cells = row_cells(get_kind("pods"), pod)
    assert [cells[k][0] for k in ("ready", "status", "restarts", "node")] == [
        "1/2", "CrashLoopBackOff", "7", "kwok-1"]


def test_human_age():
    then = parse_time("2026-11-26T10:00:00Z")
    assert human_age(then, parse_time("2026-11-26T10:00:45Z")) == "45s"
    assert human_age(then, parse_time("2026-11-26T12:00:00Z")) == "120m"
    assert human_age(then, parse_time("2026-11-29T10:00:00Z")) == "3d"
    assert human_age(None) == "<unknown>"


def test_hpa_cells_are_what_kubectl_get_hpa_shows():
    hpa = {"metadata": {"name": "inventory"},
           "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "inventory-api"}, "minReplicas": 1,
                    "maxReplicas": 4, "metrics": [{"type": "Resource", "resource": {
                        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]},
           "status": {"currentReplicas": 2, "currentMetrics": [
               {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 35}}}]}}
    cells = row_cells(resolve_alias("hpa"), hpa)
    assert [cells[k][0] for k in ("reference", "targets", "min_pods", "max_pods", "replicas")] == [
        "Deployment/inventory-api", "cpu: 35%/80%", "1", "4", "2"]
    del hpa["status"]
    assert row_cells(resolve_alias("hpa"), hpa)["targets"][0] == "cpu: <unknown>/80%"
