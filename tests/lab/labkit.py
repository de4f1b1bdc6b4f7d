"""Helpers for tests that use the lab: run `scripts/lab`, poll with a deadline, a `Lab` handle
with kubernetes API clients (admin, impersonating, or a client-certificate identity)."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from kubernetes import client, config

ROOT = Path(__file__).resolve().parents[2]
LAB_SCRIPT = ROOT / "scripts" / "lab"
STATE = Path(os.environ.get("CODEX_LAB_DIR") or ROOT / ".lab").resolve()
K8SGPT_NAMESPACE = os.environ.get("CODEX_K8SGPT_NAMESPACE", "k8sgpt")
UP_TIMEOUT = 600  # a cold start on a busy 2-core machine; normally ~30 s
RESULT_GROUP, RESULT_VERSION, RESULT_PLURAL = "core.k8sgpt.ai", "v1alpha1", "results"


def run_lab(*args: str, timeout: float) -> str:
    try:
        proc = subprocess.run([str(LAB_SCRIPT), *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"scripts/lab {' '.join(args)} did not finish within {timeout:.0f}s")
    if proc.returncode != 0:
        pytest.fail(f"scripts/lab {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stderr}\n{proc.stdout}")
    return proc.stdout


def wait_for(what: str, fn, timeout: float, interval: float = 1.0):
    """Poll fn() until it returns something truthy; fail with `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


@dataclass
class Lab:
    state: Path
    kubeconfig: Path
    app_kubeconfig: Path
    _clients: list[client.ApiClient] = field(default_factory=list)
    _admin: client.ApiClient | None = None

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

    def cert_kubeconfig(self, user: str, *groups: str) -> Path:
        """`scripts/lab cert USER [GROUP...]`: a kubeconfig for a client-certificate identity."""
        path = Path(run_lab("cert", user, *groups, timeout=60).strip().splitlines()[-1])
        assert path.exists(), path
        return path

    def admin(self) -> client.ApiClient:
        if self._admin is None:
            self._admin = self.api_client()
        return self._admin

    def results(self) -> list[dict]:
        """The K8sGPT Result objects the operator wrote (label k8sgpts.k8sgpt.ai/name) in the K8sGPT
        namespace, as dicts. Other tests may plant hand-made Results there; those are left out."""
        api = client.CustomObjectsApi(self.admin())
        return api.list_namespaced_custom_object(RESULT_GROUP, RESULT_VERSION, K8SGPT_NAMESPACE, RESULT_PLURAL,
                                                 label_selector="k8sgpts.k8sgpt.ai/name",
                                                 _request_timeout=30)["items"]

    def close(self) -> None:
        for api in self._clients:
            api.close()
        self._clients.clear()
        self._admin = None


