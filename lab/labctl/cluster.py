"""Talking to the running lab's cluster: kubectl and helm with the admin kubeconfig (helm with
its HOME/XDG dirs inside the state dir), each with a timeout and a one-line error; `poll` for
anything else worth waiting on; namespaces that are usable (their default ServiceAccount exists).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Callable

from .components import BY_NAME
from .paths import ADMIN_KUBECONFIG, HELM_TIMEOUT, HOME_DIR, K8SGPT_NAMESPACE, KUBECTL_TIMEOUT, binary, lab_home_env
from .report import LabError


def kubectl(*args: str, kubeconfig: Path = ADMIN_KUBECONFIG, timeout: float = KUBECTL_TIMEOUT,
            check: bool = True, input_text: str | None = None) -> subprocess.CompletedProcess:
    cmd = [str(binary("kubectl")), f"--kubeconfig={kubeconfig}", "--request-timeout=30s", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=input_text)
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"kubectl {' '.join(args[:3])} timed out after {timeout:.0f}s") from exc
    if check and proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["(no output)"])[-1]
        raise LabError(f"kubectl {' '.join(args[:3])} failed: {last}")
    return proc


def helm(*args: str, timeout: float = HELM_TIMEOUT, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, **lab_home_env(), "KUBECONFIG": str(ADMIN_KUBECONFIG),
           "HELM_CACHE_HOME": str(HOME_DIR / "helm" / "cache"),
           "HELM_CONFIG_HOME": str(HOME_DIR / "helm" / "config"),
           "HELM_DATA_HOME": str(HOME_DIR / "helm" / "data")}
    cmd = [str(binary("helm")), f"--kubeconfig={ADMIN_KUBECONFIG}", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"helm {' '.join(args[:2])} timed out after {timeout:.0f}s") from exc
    if check and proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise LabError(f"helm {' '.join(args[:2])} failed: {last}")
    return proc


def poll(what: str, fn: Callable[[], bool], timeout: float, interval: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return
        time.sleep(interval)
    raise LabError(f"timed out after {timeout:.0f}s waiting for {what}")


def wait_default_sa(namespace: str, timeout: float = 60) -> None:
    poll(f"ServiceAccount {namespace}/default (created by kube-controller-manager; see {BY_NAME['kube-controller-manager'].log})",
         lambda: kubectl("get", "serviceaccount", "default", "-n", namespace, check=False).returncode == 0, timeout)


def ensure_namespace(namespace: str) -> None:
    doc = json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    kubectl("apply", "-f", "-", input_text=doc)
    wait_default_sa(namespace)


def result_count() -> int:
    proc = kubectl("get", "results.core.k8sgpt.ai", "-n", K8SGPT_NAMESPACE, "-l", "k8sgpts.k8sgpt.ai/name",
                   "-o", "name", check=False)
    return len([l for l in proc.stdout.splitlines() if l.strip()]) if proc.returncode == 0 else 0

