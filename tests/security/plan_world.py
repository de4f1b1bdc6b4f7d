"""A lab world for the plan-related security tests: two namespaces, pods, a Secret, Results.

Namespace A is the one granted in the tests, B the one that is not. A's pod ``api-0`` has an
ownerReference named ``../secrets`` (the API server accepts it), so gathering its owner chain
would become *list secrets* if a name ever reached a URL unchecked. Both namespaces hold a Secret
whose value (and its base64 form) must never reach a prompt or a page.

Test modules import the fixtures they use: ``from tests.security.plan_world import sec_world``
(``lab_user`` and ``sign_in`` come from tests/support/lab_fixtures.py).
"""

from __future__ import annotations

import base64
import uuid

import pytest

from app.extensions import db
from app.models import PlanRun
from tests.support.lab_kube import RESULTS, result_body
from tests.support.lab_namespaces import lab_namespaces

LABEL = {"codex-test": "security"}
PLANTED = "s3cur1ty-planted-value-7f1c"
PLANTED_B64 = base64.b64encode(PLANTED.encode()).decode()
EVIL_OWNER = "../secrets"


def _pod(name, owner_uid):
    return {"metadata": {"name": name, "labels": {**LABEL, "app": "api"},
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": EVIL_OWNER,
                                              "uid": owner_uid, "controller": True}]},
            "spec": {"automountServiceAccountToken": False, "containers": [{
                "name": "api", "image": "registry.example/api:2.3"}]}}


@pytest.fixture(scope="session")
def sec_world(kube):
    """Namespaces A and B with a pod, a planted Secret, an event and a Result each."""
    prefix = f"codex-sec-{uuid.uuid4().hex[:6]}"
    ns_a, ns_b = f"{prefix}-a", f"{prefix}-b"
    with lab_namespaces(kube, (ns_a, ns_b), LABEL):
        results = {}
        for key, ns in (("a", ns_a), ("b", ns_b)):
            kube.create(f"/api/v1/namespaces/{ns}/secrets", {
                "metadata": {"name": "db-credentials", "labels": LABEL},
                "stringData": {"password": PLANTED}})
            kube.create(f"/api/v1/namespaces/{ns}/pods", _pod("api-0", str(uuid.uuid4())))
            kube.create(f"/api/v1/namespaces/{ns}/events", {
                "metadata": {"name": f"api-0.{uuid.uuid4().hex[:8]}", "labels": LABEL},
                "involvedObject": {"kind": "Pod", "name": "api-0", "namespace": ns, "apiVersion": "v1"},
                "reason": "BackOff", "message": "Back-off restarting failed container api",
                "type": "Warning", "count": 3, "source": {"component": "codex-test"}})
            body = result_body(f"{prefix}-{key}-api", "Pod", f"{ns}/api-0",
                               "back-off 5m0s restarting failed container=api pod=api-0", labels=LABEL)
            kube.create(RESULTS, body)
            results[key] = body["metadata"]["name"]
        yield {"prefix": prefix, "ns_a": ns_a, "ns_b": ns_b, "results": results}


@pytest.fixture
def app_config(lab_app_config):
    """The app on the lab with the offline planner (loose plan limits unless a test sets them)."""
    return dict(lab_app_config)


def run_count(app):
    """How many plan runs the database holds."""
    with app.app_context():
        return db.session.query(PlanRun).count()
