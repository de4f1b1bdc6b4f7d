"""Fixtures for the plans tests: the real lab, the real offline planner, the app on both databases.

Each session makes two namespaces (``<prefix>-a``, ``<prefix>-b``) holding a pod whose env reads a
Secret with a planted value, an event about it, and K8sGPT Results about the pods. Everything
test-made carries ``codex-test=plans`` and is deleted at the end. Users get random high ids so
their RBAC bindings never collide with another session's in the shared lab.
"""

from __future__ import annotations

import uuid

import pytest

from app.cluster.rbac_sync import sync_user
from app.extensions import db
from app.findings import Finding
from app.models import User
from app.plans import runs
from app.plans.core.vocabulary import PlanMode, RunStatus
from tests.plans.plan_helpers import ALL_KINDS, LABEL, PLANTED, PLANTED_TOKEN
from tests.support.apps import marked_settings
from tests.support.lab_kube import RESULTS, result_body
from tests.support.lab_namespaces import lab_namespaces


def pytest_configure(config):
    config.addinivalue_line("markers", "plan_config(**settings): app settings for one test")


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
    with lab_namespaces(kube, (ns_a, ns_b), LABEL):
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


@pytest.fixture
def app_config(request, lab_app_config):
    """The app on the lab (as its own identity) and the offline planner; @plan_config overrides."""
    return marked_settings(request, "plan_config", lab_app_config)


@pytest.fixture
def make_user(lab_user):
    """Create a user with grants ({namespace: kinds}) and sync their RBAC; return their id."""
    return lab_user


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
def login(sign_in):
    """A logged-in test client for a username."""
    return sign_in


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


def _three_step_plan(ns_a, ns_b, label):
    return (f"1. See the pod:\n\n```bash\nkubectl get pods -n {ns_a}\n```\n\n"
            f"2. Mark it for the on-call:\n\n```bash\nkubectl label pod api-0 {label}=seen -n {ns_a}\n```\n\n"
            f"3. And its twin elsewhere:\n\n```bash\nkubectl label pod api-0 {label}=seen -n {ns_b}\n```\n")


@pytest.fixture
def finished_run(app, world):
    """make(user_id[, text=plan]) -> the id of a finished remediation plan (default: three steps), owned by that user;
    its label key (``make.label``) is new for each test, so the pod never has it beforehand."""

    def make(user_id, result_name=None, text=None):
        with app.app_context():
            finding = Finding(kind="Pod", namespace=world["ns_a"], name="api-0")
            run = runs.create_run(user_id, result_name or world["results"]["a"], finding,
                                  PlanMode.REMEDIATION, context_kinds=("pods",))
            runs.finish_run(run.id, RunStatus.DONE,
                            text or _three_step_plan(world["ns_a"], world["ns_b"], make.label))
            return run.id

    make.label = f"codex-step-{uuid.uuid4().hex[:8]}"
    return make


@pytest.fixture
def changer(world, make_user, login):
    """A developer who may see everything in namespace A and change its pods."""
    user_id = make_user("changer", {world["ns_a"]: ALL_KINDS}, changes={world["ns_a"]: {"pods"}})
    client = login("changer")
    client.user_id = user_id
    return client
