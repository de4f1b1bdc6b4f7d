"""The lab as its administrator, for arranging test objects (tests and benchmarks alike).

    kube = Kube()                      # the lab's admin kubeconfig (.lab/kubeconfig)
    kube.create(f"/api/v1/namespaces/{ns}/pods", body)
    kube.create(RESULTS, result_body("r1", "Pod", f"{ns}/api-0", "back-off ..."))
    core = client.CoreV1Api(kube.admin())          # typed kubernetes clients, too
    as_app = kube.api_client(kube.app_kubeconfig)  # ... for any of the lab's identities

Everything a test makes should carry a ``codex-test`` label so a later run can clean it up.
"""

from __future__ import annotations

import os
from pathlib import Path

from kubernetes import client, config

from app.cluster.gateway import Conflict, Gateway, NotFound
from tests.support.child_process import REPO as ROOT, free_port
from tests.support.lab_control import run_lab

STATE = Path(os.environ.get("CODEX_LAB_DIR") or ROOT / ".lab").resolve()
K8SGPT_NS = os.environ.get("CODEX_K8SGPT_NAMESPACE", "k8sgpt")
RESULTS = f"/apis/core.k8sgpt.ai/v1alpha1/namespaces/{K8SGPT_NS}/results"
ADMIN_KUBECONFIG = STATE / "kubeconfig"
APP_KUBECONFIG = STATE / "app.kubeconfig"


class Kube:
    """The lab's administrator: raw requests through the app's Gateway (create and delete are
    idempotent), and kubernetes ApiClients for the admin or any other lab kubeconfig."""

    def __init__(self, timeout=(5, 60)):
        self.kubeconfig, self.app_kubeconfig = ADMIN_KUBECONFIG, APP_KUBECONFIG
        self.gw = Gateway(kubeconfig=str(ADMIN_KUBECONFIG), timeout=timeout)
        self.api = self.gw.as_app()
        self._clients: list[client.ApiClient] = []
        self._admin: client.ApiClient | None = None

    # -- raw requests (paths, JSON bodies) ------------------------------------------------------

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

    # -- typed clients ---------------------------------------------------------------------------

    def api_client(self, kubeconfig: Path | None = None, impersonate: str | None = None,
                   impersonate_group: str | None = None) -> client.ApiClient:
        """An ApiClient for a kubeconfig (default: admin), optionally impersonating a user."""
        api = config.new_client_from_config(config_file=str(kubeconfig or self.kubeconfig))
        if impersonate:
            api.set_default_header("Impersonate-User", impersonate)
        if impersonate_group:
            api.set_default_header("Impersonate-Group", impersonate_group)
        self._clients.append(api)
        return api

    def admin(self) -> client.ApiClient:
        if self._admin is None:
            self._admin = self.api_client()
        return self._admin

    def cert_kubeconfig(self, user: str, *groups: str) -> Path:
        """`scripts/lab cert USER [GROUP...]`: a kubeconfig for a client-certificate identity."""
        path = Path(run_lab("cert", user, *groups, timeout=60).strip().splitlines()[-1])
        assert path.exists(), path
        return path

    def results(self) -> list[dict]:
        """The K8sGPT Result objects the operator wrote (label k8sgpts.k8sgpt.ai/name) in the K8sGPT
        namespace. Other tests may plant hand-made Results there; those are left out."""
        return self.get(RESULTS, labelSelector="k8sgpts.k8sgpt.ai/name")["items"]

    def close(self):
        self.gw.close()
        for api in self._clients:
            api.close()
        self._clients.clear()
        self._admin = None


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


def write_unreachable_kubeconfig(path: Path) -> Path:
    """A kubeconfig whose API server refuses connections (nothing listens on the port)."""
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: gone\n"
        "clusters: [{name: gone, cluster: {server: 'https://127.0.0.1:%d'}}]\n"
        "users: [{name: nobody, user: {token: not-a-real-token}}]\n"
        "contexts: [{name: gone, context: {cluster: gone, user: nobody}}]\n" % free_port())
    return path


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
