"""Fixtures for the dashboard and resource-tab tests, against the real lab.

Each test session gets two fresh namespaces (``<prefix>-a`` and ``<prefix>-b``) with pods, an
event, a ConfigMap and a Secret, plus K8sGPT Results about them in the K8sGPT namespace -- some
deliberately odd. Everything test-made carries the label ``codex-test=dashboard`` and is deleted
at the end. Users get random high ids so their RBAC bindings never collide with another
session's users in the shared lab.
"""

from __future__ import annotations

import re
import uuid

import pytest

from app.config import TestConfig
from tests.support.apps import build_app, close_app
from tests.support.lab_kube import RESULTS, STATE
from tests.support.lab_namespaces import lab_namespaces

TEST_LABEL = {"codex-test": "dashboard"}
PASSWORD = "correct horse battery staple"
XSS = "<script>alert('xss')</script><img src=x onerror=alert(1)>"
SECRET_VALUE = "s3cr3t-value-never-shown"


def _result(name: str, spec: dict | None) -> dict:
    body = {"apiVersion": "core.k8sgpt.ai/v1alpha1", "kind": "Result",
            "metadata": {"name": name, "labels": dict(TEST_LABEL)}}
    if spec is not None:
        body["spec"] = spec
    return body


def _spec(kind: str, name: str, text: str, **extra) -> dict:
    spec = {"kind": kind, "name": name, "error": [{"text": text}], "details": "",
            "parentObject": "", "backend": "noopai", "autoRemediationStatus": {}}
    spec.update(extra)
    return spec


@pytest.fixture(scope="session")
def world(kube):
    """Create the namespaces, objects and Results the tests look at; delete them afterwards."""
    prefix = f"codex-dash-{uuid.uuid4().hex[:6]}"
    ns_a, ns_b = f"{prefix}-a", f"{prefix}-b"
    # At the end only this session's Results go: a dashboard session running alongside keeps its own.
    with lab_namespaces(kube, (ns_a, ns_b), TEST_LABEL,
                        results_selector=f"codex-test=dashboard,codex-session={prefix}"):
        for ns in (ns_a, ns_b):
            for i in range(3):
                kube.create(f"/api/v1/namespaces/{ns}/pods", {"metadata": {
                    "name": f"web-{i}", "labels": {**TEST_LABEL, "app": "web"},
                    "annotations": {"note": XSS}},
                    "spec": {"containers": [{"name": "app", "image": "registry.example/web:1"}]}})
            kube.create(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {
                "name": "settings", "labels": TEST_LABEL}, "data": {"html": XSS}})
            kube.create(f"/api/v1/namespaces/{ns}/secrets", {"metadata": {
                "name": "db-credentials", "labels": TEST_LABEL},
                "stringData": {"password": SECRET_VALUE}})
            kube.create(f"/api/v1/namespaces/{ns}/events", {
                "metadata": {"name": f"web-0.{uuid.uuid4().hex[:8]}", "labels": TEST_LABEL},
                "involvedObject": {"kind": "Pod", "name": "web-0", "namespace": ns,
                                   "apiVersion": "v1"},
                "reason": "BackOff", "message": f"Back-off in {ns}: {XSS}", "type": "Warning",
                "count": 3, "firstTimestamp": "2026-11-26T10:00:00Z",
                "lastTimestamp": "2026-11-26T10:05:00Z",
                "source": {"component": "codex-test"}})
        tag = prefix
        results = {
            "a_pod": _result(f"{tag}-a-pod", _spec(
                "Pod", f"{ns_a}/web-0", f"back-off restarting failed container in {ns_a} {XSS}",
                details=f"Explanation {XSS}", parentObject="Deployment/web")),
            "a_sensitive": _result(f"{tag}-a-secret", _spec(
                "Pod", f"{ns_a}/web-1", "Secret db-credentials-prod is not found",
                error=[{"text": "Secret db-credentials-prod is not found",
                        "sensitive": [{"unmasked": "db-credentials-prod", "masked": "ZGItY3Jl"}]}])),
            "a_planted": _result(f"{tag}-a-planted", _spec(
                "Deployment", f"{ns_a}/api", "x",
                error=[{"text": f"Deployment {ns_a}/api has 1 replicas, password=hunter2-planted",
                        "sensitive": [{"unmasked": ns_a, "masked": "dGVhbS1h"},
                                      {"unmasked": "api", "masked": "YXBp"}]}])),
            "b_pod": _result(f"{tag}-b-pod", _spec("Pod", f"{ns_b}/web-0", f"only-in-{ns_b}")),
            "cluster": _result(f"{tag}-node", _spec("Node", f"{tag}-node", "cluster-scoped finding")),
            "no_spec": _result(f"{tag}-no-spec", None),
            "empty": _result(f"{tag}-empty", _spec("", "", "", error=[])),
            "bad_name": _result(f"{tag}-bad-name", _spec("Pod", "/", "bad name")),
            "odd_errors": _result(f"{tag}-odd-errors", _spec(
                "Pod", f"{ns_a}/web-2", "x", error=[{}, {"sensitive": [{}]}, {"text": "real text"}])),
        }
        for body in results.values():
            body["metadata"]["labels"]["codex-session"] = prefix  # see results_selector above
            kube.create(RESULTS, body)
        yield {"ns_a": ns_a, "ns_b": ns_b, "prefix": prefix,
               "results": {key: body["metadata"]["name"] for key, body in results.items()}}


class ViewTestConfig(TestConfig):
    CODEX_KUBECONFIG = str(STATE / "app.kubeconfig")
    CODEX_RESULTS_MAX_AGE = 0  # read Results on every request: tests look right after creating


@pytest.fixture
def app(kube, tmp_path):
    """The app on a fresh migrated SQLite file, reading the lab as cluster-codex-app."""
    app = build_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'codex.db'}"}, base=ViewTestConfig)
    yield app
    close_app(app)


@pytest.fixture
def make_user(lab_user):
    """Create a user with grants ({namespace: kinds}), sync their RBAC, return their id."""
    return lab_user


@pytest.fixture
def login(app):
    """Return a logged-in test client for a username."""

    def login_as(username):
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        response = client.post("/login", data={"username": username, "password": PASSWORD,
                                               "csrf_token": token})
        assert response.status_code == 303, response.get_data(as_text=True)
        return client

    return login_as


ALL_KINDS = ("pods", "configmaps", "secrets", "events", "deployments", "services")


@pytest.fixture
def dev_a(world, make_user, login):
    """A developer granted only namespace A (pods, configmaps, secrets, events...)."""
    make_user("dev-a", {world["ns_a"]: ALL_KINDS})
    return login("dev-a")


@pytest.fixture
def admin(world, make_user, login):
    make_user("platform-admin", admin=True)
    return login("platform-admin")


def page_text(response) -> str:
    return response.get_data(as_text=True)
