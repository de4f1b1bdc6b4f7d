"""Fixtures for the plans tests: the real lab, the real offline planner, the app on both databases.

Each session makes two namespaces (``<prefix>-a``, ``<prefix>-b``) holding a pod whose env reads a
Secret with a planted value, an event about it, and K8sGPT Results about the pods. Everything
test-made carries ``codex-test=plans`` and is deleted at the end. Users get random high ids so
their RBAC bindings never collide with another session's in the shared lab.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "support"))
sys.path.insert(0, str(HERE))

from planner_process import PlannerProcess  # noqa: E402

from app.cluster.gateway import Conflict, Gateway, NotFound  # noqa: E402
from app.cluster.rbac_sync import sync_user  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import User  # noqa: E402
from lab_users import lab_users  # noqa: E402
from lab_namespaces import wait_for_default_service_account  # noqa: E402

ROOT = HERE.parents[1]
STATE = Path(os.environ.get("CODEX_LAB_DIR") or ROOT / ".lab").resolve()
K8SGPT_NS = os.environ.get("CODEX_K8SGPT_NAMESPACE", "k8sgpt")
RESULTS = f"/apis/core.k8sgpt.ai/v1alpha1/namespaces/{K8SGPT_NS}/results"
LABEL = {"codex-test": "plans"}
PASSWORD = "correct horse battery staple"
PLANTED = "pl4nted-db-pass-9c2e7b"  # the Secret's value: must never reach a prompt or a page
PLANTED_TOKEN = "tok3n-literal-5d81aa"  # a literal env value under a secret-looking name
ALL_KINDS = {"pods", "events", "deployments", "replicasets", "configmaps", "secrets"}


def pytest_configure(config):
    config.addinivalue_line("markers", "plan_config(**settings): app settings for one test")


class Kube:
    """Raw requests as the lab's administrator, for arranging test objects."""

    def __init__(self):
        self.gw = Gateway(kubeconfig=str(STATE / "kubeconfig"), timeout=(5, 60))
        self.api = self.gw.as_app()

    def create(self, path, body):
        try:
            return self.gw.request(self.api, "POST", path, body=body)
        except Conflict:
            return {}

    def delete(self, path, **query):
        try:
            self.gw.request(self.api, "DELETE", path, query=query or None)
        except NotFound:
            pass

    def get(self, path, **query):
        return self.gw.get(self.api, path, **query)


def _apiserver_ready():
    try:
        kube = Kube()
    except Exception:  # noqa: BLE001 - no kubeconfig yet: the lab was never started
        return False
    try:
        kube.gw.request(kube.api, "GET", "/readyz", raw=True)
        return True
    except Exception:  # noqa: BLE001 - not running
        return False
    finally:
        kube.gw.close()


@pytest.fixture(scope="session")
def kube():
    """Admin access to the lab; starts it when its API server does not answer.

    Only the API server is required here (plans read Results and objects); the test that needs
    K8sGPT's own Results installs the known issues and waits for them.
    """
    if not _apiserver_ready():
        subprocess.run([str(ROOT / "scripts" / "lab"), "up"], check=True, timeout=900)
    kube = Kube()
    yield kube
    kube.gw.close()


@pytest.fixture(scope="session")
def planner():
    with PlannerProcess("--delay-ms", "0") as process:
        yield process


def result_body(name, kind, object_name, text, sensitive=None, parent=""):
    error = {"text": text}
    if sensitive:
        error["sensitive"] = sensitive
    return {"apiVersion": "core.k8sgpt.ai/v1alpha1", "kind": "Result",
            "metadata": {"name": name, "labels": dict(LABEL)},
            "spec": {"kind": kind, "name": object_name, "error": [error], "details": "",
                     "parentObject": parent, "backend": "noopai", "autoRemediationStatus": {}}}


def _pod(name):
    return {"metadata": {"name": name, "labels": {**LABEL, "app": "api"}},
            "spec": {"automountServiceAccountToken": False, "containers": [{
                "name": "api", "image": "registry.example/api:2.3",
                "env": [{"name": "DB_PASSWORD",
                         "valueFrom": {"secretKeyRef": {"name": "api-db", "key": "password"}}},
                        {"name": "API_TOKEN", "value": PLANTED_TOKEN},
                        {"name": "LOG_LEVEL", "value": "debug"}]}]}}


@pytest.fixture(scope="session")
def world(kube):
    """Namespaces, pods, a planted Secret, events and Results; deleted after the session."""
    prefix = f"codex-plans-{uuid.uuid4().hex[:6]}"
    ns_a, ns_b = f"{prefix}-a", f"{prefix}-b"
    try:
        for ns in (ns_a, ns_b):
            kube.create("/api/v1/namespaces", {"metadata": {"name": ns, "labels": LABEL}})
        wait_for_default_service_account(kube, (ns_a, ns_b))
        for ns in (ns_a, ns_b):
            kube.create(f"/api/v1/namespaces/{ns}/secrets", {
                "metadata": {"name": "api-db", "labels": LABEL}, "stringData": {"password": PLANTED}})
            kube.create(f"/api/v1/namespaces/{ns}/pods", _pod("api-0"))
            kube.create(f"/api/v1/namespaces/{ns}/events", {
                "metadata": {"name": f"api-0.{uuid.uuid4().hex[:8]}", "labels": LABEL},
                "involvedObject": {"kind": "Pod", "name": "api-0", "namespace": ns, "apiVersion": "v1"},
                "reason": "BackOff", "message": "Back-off restarting failed container api", "type": "Warning",
                "count": 7, "firstTimestamp": "2026-11-26T10:00:00Z", "lastTimestamp": "2026-11-26T10:05:00Z",
                "source": {"component": "codex-test"}})
        results = {
            "a": result_body(f"{prefix}-a-api", "Pod", f"{ns_a}/api-0",
                             "back-off 5m0s restarting failed container=api pod=api-0 (secret api-db-prod)",
                             sensitive=[{"unmasked": "api-db-prod", "masked": "YXBpLWRi"}]),
            "b": result_body(f"{prefix}-b-api", "Pod", f"{ns_b}/api-0",
                             "back-off 5m0s restarting failed container=api pod=api-0"),
        }
        for body in results.values():
            kube.create(RESULTS, body)
        yield {"prefix": prefix, "ns_a": ns_a, "ns_b": ns_b,
               "results": {key: body["metadata"]["name"] for key, body in results.items()}}
    finally:
        kube.delete(RESULTS, labelSelector="codex-test=plans")
        for ns in (ns_a, ns_b):
            kube.delete(f"/api/v1/namespaces/{ns}")


@pytest.fixture
def app_config(request, database_url, planner, kube):
    """The app on the lab (as its own identity) and the offline planner; @plan_config overrides."""
    config = {"SQLALCHEMY_DATABASE_URI": database_url, "CODEX_KUBECONFIG": str(STATE / "app.kubeconfig"),
              "CODEX_LLM_BASE_URL": planner.base_url, "CODEX_LLM_TIMEOUT": 20,
              "CODEX_PLAN_MAX_CONCURRENT": 50, "CODEX_PLAN_MAX_PER_MINUTE": 500}
    marker = request.node.get_closest_marker("plan_config")
    if marker:
        config.update(marker.kwargs)
    return config


@pytest.fixture
def make_user(app):
    """Create a user with grants ({namespace: kinds}) and sync their RBAC; return their id."""
    with lab_users(app, PASSWORD) as make:
        yield make


@pytest.fixture
def revoke(app):
    """Take a namespace away from a user, in the database and in the cluster."""

    def revoke_namespace(user_id, namespace):
        with app.app_context():
            user = db.session.get(User, user_id)
            user.grants = [g for g in user.grants if g.namespace != namespace]
            db.session.commit()
            sync_user(user)

    return revoke_namespace


@pytest.fixture
def login(app):
    """A logged-in test client for a username."""

    def login_as(username):
        client = app.test_client()
        response = client.submit("/login", {"username": username, "password": PASSWORD})
        assert response.status_code == 303, response.get_data(as_text=True)
        return client

    return login_as


@pytest.fixture
def dev(world, make_user, login):
    """A developer granted namespace A only; ``dev.user_id`` is their id."""
    user_id = make_user("dev", {world["ns_a"]: ALL_KINDS})
    client = login("dev")
    client.user_id = user_id
    return client


@pytest.fixture(autouse=True)
def _close_model_client(app):
    yield
    client = app.extensions.pop("codex_model_client", None)
    if client is not None:
        client.close()
