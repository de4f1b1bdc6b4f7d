"""The lab's processes as data: one Component per binary -- its ports, arguments, environment,
health check and start-up timeout -- in COMPONENTS, in the order `up` starts them (`down` stops
them in reverse). Also kwok's canned container logs (CONTAINER_LOGS), since they are part of
kwok's arguments.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .paths import (ADMIN_KUBECONFIG, APISERVER_PORT, EXPLAINER_PORT, HOME_DIR, HOST, LAB, LOG_DIR, PKI_DIR, POD_CIDR,
                    ROOT, RUN_DIR, SA_ISSUER, SERVICE_CIDR, STATE, lab_home_env)
from .probes import (apiserver_health, etcd_health, explainer_health, https_healthz, k8sgpt_health, kwok_health,
                     operator_health)
from .report import LabError


@dataclass
class Component:
    name: str
    binary: str
    ports: list[tuple[int, str]]  # (port, bind host) it needs free
    args: Callable[[], list[str]]
    health: Callable[[], tuple[bool, str]]
    env: Callable[[], dict[str, str]] = field(default=lambda: {})
    start_timeout: float = 60.0
    port_label: str = ""

    @property
    def pidfile(self) -> Path:
        return RUN_DIR / f"{self.name}.pid"

    @property
    def log(self) -> Path:
        return LOG_DIR / f"{self.name}.log"


def _pki(name: str) -> str:
    return str(PKI_DIR / name)


def _kc(name: str) -> str:
    return str(PKI_DIR / f"{name}.kubeconfig")


LOG_FILES = LAB / "kwok" / "logs"
# container name -> (current log, previous log) served by kwok as the "kubelet" of the fake nodes
CONTAINER_LOGS = {
    "api": ("api-previous.log", "api-previous.log"),
    "worker": ("worker-previous.log", "worker-previous.log"),
    "web": ("nginx.log", None), "shop": ("nginx.log", None), "server": ("nginx.log", None),
    "checkout": ("checkout.log", None),
    "export": ("export.log", None),  # eval/charts/job-backoff
}


def write_kwok_logs_config() -> Path:
    """A kwok ClusterLogs config: `kubectl logs` (through the apiserver) returns canned CRI-format
    logs per container name (lab/kwok/logs/), a default line for any other container."""
    lines = ["apiVersion: kwok.x-k8s.io/v1alpha1", "kind: ClusterLogs", "metadata:", "  name: lab-logs",
             "spec:", "  logs:"]
    for container, (current, previous) in CONTAINER_LOGS.items():
        lines += [f"  - containers: [{container}]", f"    logsFile: {LOG_FILES / current}"]
        if previous:
            lines.append(f"    previousLogsFile: {LOG_FILES / previous}")
    lines += [f"  - logsFile: {LOG_FILES / 'default.log'}"]
    path = STATE / "kwok-logs.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


SIMULATED_FAILURE_KEY = "'@simulated-failure@'"


def simulated_failure_expression() -> str:
    """lab/stages/simulated-failure.jq on one line, comments dropped: the selector key of every pod Stage."""
    lines = (line.split("#", 1)[0].strip() for line in (LAB / "stages" / "simulated-failure.jq").read_text().splitlines())
    return " ".join(line for line in lines if line)


def write_kwok_stages() -> list[Path]:
    """The Stages of lab/stages, with the simulated-failure expression put in where they name it."""
    stages = sorted((LAB / "stages").glob("*.yaml"))
    if not stages:
        raise LabError(f"kwok: no stages in {LAB / 'stages'}")
    key = json.dumps(simulated_failure_expression())  # a JSON string is a valid YAML scalar
    folder = STATE / "kwok-stages"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for stage in stages:
        path = folder / stage.name
        path.write_text(stage.read_text().replace(SIMULATED_FAILURE_KEY, key))
        written.append(path)
    return written


def kwok_config_args() -> list[str]:
    out: list[str] = []
    for s in write_kwok_stages():
        out += ["--config", str(s)]
    out += ["--config", str(write_kwok_logs_config())]
    return out


COMPONENTS: list[Component] = [
    Component(
        name="etcd", binary="etcd", ports=[(22379, HOST), (22380, HOST)], port_label="22379",
        args=lambda: [
            "--name=lab", f"--data-dir={STATE / 'etcd'}",
            f"--listen-client-urls=http://{HOST}:22379", f"--advertise-client-urls=http://{HOST}:22379",
            f"--listen-peer-urls=http://{HOST}:22380", f"--initial-advertise-peer-urls=http://{HOST}:22380",
            f"--initial-cluster=lab=http://{HOST}:22380",
            "--unsafe-no-fsync=true", "--log-level=warn",
        ],
        health=etcd_health, start_timeout=60,
    ),
    Component(
        name="kube-apiserver", binary="kube-apiserver", ports=[(APISERVER_PORT, HOST)], port_label=str(APISERVER_PORT),
        args=lambda: [
            f"--etcd-servers=http://{HOST}:22379",
            f"--bind-address={HOST}", f"--secure-port={APISERVER_PORT}", f"--advertise-address={HOST}",
            f"--cert-dir={STATE / 'apiserver'}",
            f"--tls-cert-file={_pki('apiserver.crt')}", f"--tls-private-key-file={_pki('apiserver.key')}",
            f"--client-ca-file={_pki('ca.crt')}",
            f"--service-account-issuer={SA_ISSUER}",
            f"--service-account-key-file={_pki('sa.pub')}",
            f"--service-account-signing-key-file={_pki('sa.key')}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,"
            "ResourceQuota,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,NodeRestriction",
            # the fake nodes' "kubelet" is kwok's server (127.0.0.1:20250, cert from our CA): pod logs work
            "--kubelet-preferred-address-types=InternalIP,Hostname",
            f"--kubelet-certificate-authority={_pki('ca.crt')}",
            # the apiserver only listens on loopback, which Endpoints may not hold: no reconciler
            "--endpoint-reconciler-type=none",
            "--allow-privileged=true", "--profiling=false",
            "--v=1",
        ],
        health=apiserver_health, start_timeout=180,
    ),
    Component(
        name="kube-controller-manager", binary="kube-controller-manager", ports=[(20257, HOST)], port_label="20257",
        args=lambda: [
            f"--kubeconfig={_kc('kube-controller-manager')}",
            f"--authentication-kubeconfig={_kc('kube-controller-manager')}",
            f"--authorization-kubeconfig={_kc('kube-controller-manager')}",
            f"--bind-address={HOST}", "--secure-port=20257",
            "--leader-elect=false",
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={_pki('sa.key')}",
            f"--root-ca-file={_pki('ca.crt')}",
            f"--cluster-signing-cert-file={_pki('ca.crt')}", f"--cluster-signing-key-file={_pki('ca.key')}",
            # No HPA controller: without a metrics API it would mark every HPA "unable to compute the
            # replica count", which K8sGPT reports (lab/manifests/k8sgpt.yaml).
            "--controllers=*,-horizontalpodautoscaling",
            "--cluster-name=cluster-codex-lab", "--profiling=false", "--v=1",
        ],
        health=https_healthz(20257), start_timeout=90,
    ),
    Component(
        name="kube-scheduler", binary="kube-scheduler", ports=[(20259, HOST)], port_label="20259",
        args=lambda: [
            f"--kubeconfig={_kc('kube-scheduler')}",
            f"--authentication-kubeconfig={_kc('kube-scheduler')}",
            f"--authorization-kubeconfig={_kc('kube-scheduler')}",
            f"--bind-address={HOST}", "--secure-port=20259",
            "--leader-elect=false", "--profiling=false", "--v=1",
        ],
        health=https_healthz(20259), start_timeout=90,
    ),
    Component(
        name="kwok", binary="kwok", ports=[(20250, HOST)], port_label="20250",
        args=lambda: [
            f"--kubeconfig={_kc('kwok')}",
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            f"--cidr={POD_CIDR}",
            f"--server-address={HOST}:20250", "--node-port=20250",
            f"--tls-cert-file={_pki('kwok-serving.crt')}", f"--tls-private-key-file={_pki('kwok-serving.key')}",
            "--node-lease-duration-seconds=40",
            *kwok_config_args(),
        ],
        env=lab_home_env, health=kwok_health, start_timeout=60,
    ),
    Component(
        # Before k8sgpt: one failed explain call fails K8sGPT's whole analysis pass (no Results).
        name="explainer", binary="python", ports=[(EXPLAINER_PORT, HOST)], port_label=str(EXPLAINER_PORT),
        args=lambda: ["-m", "offline_planner", "--host", HOST, "--port", str(EXPLAINER_PORT), "--no-markers"],
        env=lambda: {"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}, health=explainer_health, start_timeout=60,
    ),
    Component(
        name="k8sgpt", binary="k8sgpt", ports=[(8080, "0.0.0.0"), (8081, "0.0.0.0")], port_label="8080,8081",
        args=lambda: [
            "serve", "--port=8080", "--metrics-port=8081", "--backend=noopai",
            f"--kubeconfig={ADMIN_KUBECONFIG}", f"--config={HOME_DIR / '.config' / 'k8sgpt' / 'k8sgpt.yaml'}",
        ],
        env=lab_home_env, health=k8sgpt_health, start_timeout=60,
    ),
    Component(
        name="k8sgpt-operator", binary="k8sgpt-operator", ports=[], port_label="random 7000-8000",
        args=lambda: [],
        env=lambda: {**lab_home_env(), "LOCAL_MODE": "1", "KUBECONFIG": str(ADMIN_KUBECONFIG)},
        health=operator_health, start_timeout=60,
    ),
]
BY_NAME = {c.name: c for c in COMPONENTS}
