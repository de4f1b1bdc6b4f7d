"""Where the lab lives and what it listens on, in one place: the repository, the state dir
(${CODEX_LAB_DIR:-<repo>/.lab}), the binary cache (${CODEX_CACHE_DIR:-~/.cache/cluster-codex}),
the fixed ports, CIDRs and timeouts, and where each binary `scripts/lab build` made is found
(<cache>/bin/<X_DIR>, X_DIR as named in lab/versions.env).
"""

from __future__ import annotations

import os
from pathlib import Path

from .report import LabError

ROOT = Path(__file__).resolve().parents[2]  # <repo>/lab/labctl/paths.py -> <repo>
LAB = ROOT / "lab"
STATE = Path(os.environ.get("CODEX_LAB_DIR") or ROOT / ".lab").resolve()
CACHE = Path(os.environ.get("CODEX_CACHE_DIR") or Path.home() / ".cache" / "cluster-codex")
K8SGPT_NAMESPACE = os.environ.get("CODEX_K8SGPT_NAMESPACE", "k8sgpt")

HOST = "127.0.0.1"
APISERVER_PORT = 16443
APISERVER_URL = f"https://{HOST}:{APISERVER_PORT}"
SERVICE_CIDR = "10.0.0.0/24"
FIRST_SERVICE_IP = "10.0.0.1"
POD_CIDR = "10.244.0.1/16"
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"
# K8sGPT's AI backend in the lab: the project's offline planner, which answers its explain prompt
# (offline_planner/explain.py), run with the project's venv. Not 8765: `scripts/run`'s own planner.
EXPLAINER_PORT = 28765
EXPLAINER_URL = f"http://{HOST}:{EXPLAINER_PORT}/v1"
EXPLAINER_MODEL = "codex-offline-planner"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"

PKI_DIR = STATE / "pki"
RUN_DIR = STATE / "run"
LOG_DIR = STATE / "logs"
HOME_DIR = STATE / "home"  # HOME/XDG dirs for k8sgpt, kwok, helm: never the user's own home
ADMIN_KUBECONFIG = STATE / "kubeconfig"
APP_KUBECONFIG = STATE / "app.kubeconfig"
USERS_DIR = STATE / "users"

STOP_TIMEOUT = 15.0
KUBECTL_TIMEOUT = 90
HELM_TIMEOUT = 180


def lab_home_env() -> dict[str, str]:
    return {
        "HOME": str(HOME_DIR),
        "XDG_CONFIG_HOME": str(HOME_DIR / ".config"),
        "XDG_CACHE_HOME": str(HOME_DIR / ".cache"),
        "XDG_DATA_HOME": str(HOME_DIR / ".local" / "share"),
    }


# --------------------------------------------------------------------------------------------
# binaries


def read_versions() -> dict[str, str]:
    path = LAB / "versions.env"
    out: dict[str, str] = {}
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        out[key.strip()] = value.strip()
    return out


# binary name -> the versions.env key of its directory
BINARY_DIR_KEY = {
    "etcd": "ETCD_DIR",
    "kube-apiserver": "KUBE_DIR",
    "kube-controller-manager": "KUBE_DIR",
    "kube-scheduler": "KUBE_DIR",
    "kubectl": "KUBE_DIR",
    "kwok": "KWOK_DIR",
    "helm": "HELM_DIR",
    "k8sgpt": "K8SGPT_DIR",
    "k8sgpt-operator": "K8SGPT_OPERATOR_DIR",
}


def component_dir(key: str) -> Path | None:
    versions = read_versions()
    name = versions.get(key)
    if not name:
        return None
    return CACHE / "bin" / name


def binary(name: str) -> Path:
    if name == "python":  # the explainer: the project's venv, made by scripts/bootstrap
        if not (VENV_PYTHON.exists() and os.access(VENV_PYTHON, os.X_OK)):
            raise LabError(f"python: the project's venv is missing ({VENV_PYTHON}); run scripts/bootstrap")
        return VENV_PYTHON
    key = BINARY_DIR_KEY[name]
    directory = component_dir(key)
    if directory is None:
        raise LabError(f"{name}: lab/versions.env has no {key}; run scripts/lab build")
    path = directory / name
    if not (path.exists() and os.access(path, os.X_OK)):
        raise LabError(f"{name}: binary missing ({path}); run scripts/lab build")
    if not (directory / ".built").exists():
        raise LabError(f"{name}: build of {directory.name} is incomplete (no .built marker); run scripts/lab build")
    return path


def operator_crds_dir() -> Path:
    directory = component_dir("K8SGPT_OPERATOR_DIR")
    crds = directory / "crds" if directory else None
    if crds and crds.is_dir() and any(crds.glob("*.yaml")):
        return crds
    raise LabError(f"k8sgpt-operator: CRDs missing ({crds}); run scripts/lab build")
