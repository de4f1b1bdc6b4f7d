"""Raw access to the lab as its administrator, for arranging test objects (tests and benchmarks).

    kube = Kube()                      # the lab's admin kubeconfig (.lab/kubeconfig)
    kube.create(f"/api/v1/namespaces/{ns}/pods", body)
    kube.create(RESULTS, result_body("r1", "Pod", f"{ns}/api-0", "back-off ..."))

Everything a test makes should carry a ``codex-test`` label so a later run can clean it up.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.cluster.gateway import Conflict, Gateway, NotFound

ROOT = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("CODEX_LAB_DIR") or ROOT / ".lab").resolve()
K8SGPT_NS = os.environ.get("CODEX_K8SGPT_NAMESPACE", "k8sgpt")
RESULTS = f"/apis/core.k8sgpt.ai/v1alpha1/namespaces/{K8SGPT_NS}/results"
APP_KUBECONFIG = STATE / "app.kubeconfig"


class Kube:
    """Raw requests as the lab's administrator: create (idempotent), delete (idempotent), get."""

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

    def close(self):
        self.gw.close()


def apiserver_ready():
    """True when the lab's API server answers its administrator."""
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
        kube.close()


def result_body(name, kind, object_name, text, sensitive=None, parent="", labels=None,
                details=""):
    """A K8sGPT Result as the operator writes it (``object_name`` is "namespace/name")."""
    error = {"text": text}
    if sensitive:
        error["sensitive"] = sensitive
    return {"apiVersion": "core.k8sgpt.ai/v1alpha1", "kind": "Result",
            "metadata": {"name": name, "labels": dict(labels or {"codex-test": "plans"})},
            "spec": {"kind": kind, "name": object_name, "error": [error], "details": details,
                     "parentObject": parent, "backend": "noopai", "autoRemediationStatus": {}}}
