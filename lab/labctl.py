#!/usr/bin/env python3
"""Control the local Kubernetes lab: up | down [--purge] | status | env | cert USER [GROUP...] |
issues install|uninstall.

Stdlib only (plus the openssl CLI and the binaries `scripts/lab build` puts in the cache): this
runs before the project's venv exists. Every wait has a timeout; every failure is one line naming
the component, what to do, and its log.

State: ${CODEX_LAB_DIR:-<repo>/.lab}; binaries: ${CODEX_CACHE_DIR:-~/.cache/cluster-codex}/bin/<X_DIR>
as named in lab/versions.env.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from certs import PKI, CertError, check_subject_part, write_kubeconfig  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
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


class LabError(RuntimeError):
    """A failure worth one line on stderr and a non-zero exit."""


def say(msg: str) -> None:
    print(f"lab: {msg}", flush=True)


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


# --------------------------------------------------------------------------------------------
# HTTP health checks (stdlib)


def _ssl_context(verify: bool, client: tuple[Path, Path] | None = None) -> ssl.SSLContext:
    if verify:
        ctx = ssl.create_default_context(cafile=str(PKI_DIR / "ca.crt"))
    else:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if client:
        ctx.load_cert_chain(str(client[0]), str(client[1]))
    return ctx


def http_get(url: str, timeout: float = 3.0, ctx: ssl.SSLContext | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=ctx) as resp:
            return resp.status, resp.read(2000).decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(2000).decode(errors="replace")
    except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
        return 0, str(getattr(exc, "reason", exc))


def tcp_open(port: int, host: str = HOST, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_free(port: int, host: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


# --------------------------------------------------------------------------------------------
# components


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


def etcd_health() -> tuple[bool, str]:
    code, body = http_get(f"http://{HOST}:22379/health")
    if code == 200 and '"health":"true"' in body.replace(" ", ""):
        return True, "healthy"
    return False, f"/health: {code or body}"


def apiserver_health() -> tuple[bool, str]:
    if not (PKI_DIR / "admin.crt").exists():
        return False, "no admin certificate"
    ctx = _ssl_context(True, (PKI_DIR / "admin.crt", PKI_DIR / "admin.key"))
    code, body = http_get(f"{APISERVER_URL}/readyz", ctx=ctx)
    if code == 200:
        return True, "ready (/readyz ok)"
    return False, f"/readyz: {code or body}"


def https_healthz(port: int) -> Callable[[], tuple[bool, str]]:
    def check() -> tuple[bool, str]:
        code, body = http_get(f"https://{HOST}:{port}/healthz", ctx=_ssl_context(False))
        return (True, "healthy (/healthz ok)") if code == 200 else (False, f"/healthz: {code or body}")
    return check


def kwok_health() -> tuple[bool, str]:
    code, body = http_get(f"https://{HOST}:20250/healthz", ctx=_ssl_context(True))
    return (True, "healthy (/healthz ok)") if code == 200 else (False, f"/healthz: {code or body}")


def k8sgpt_health() -> tuple[bool, str]:
    if not tcp_open(8080):
        return False, "gRPC :8080 not accepting connections"
    code, _ = http_get(f"http://{HOST}:8081/metrics")
    return (True, "serving (gRPC :8080, metrics :8081)") if code == 200 else (False, f"metrics :8081: {code}")


def operator_probe_port() -> int | None:
    log = LOG_DIR / "k8sgpt-operator.log"
    if not log.exists():
        return None
    ports = re.findall(r"Probe address: :(\d+)", log.read_text(errors="replace"))
    return int(ports[-1]) if ports else None


def operator_health() -> tuple[bool, str]:
    port = operator_probe_port()
    if port is None:
        return False, "probe port not logged yet"
    code, body = http_get(f"http://{HOST}:{port}/readyz")
    return (True, f"ready (probe :{port})") if code == 200 else (False, f"probe :{port}/readyz: {code or body}")


def lab_home_env() -> dict[str, str]:
    return {
        "HOME": str(HOME_DIR),
        "XDG_CONFIG_HOME": str(HOME_DIR / ".config"),
        "XDG_CACHE_HOME": str(HOME_DIR / ".cache"),
        "XDG_DATA_HOME": str(HOME_DIR / ".local" / "share"),
    }


LOG_FILES = LAB / "kwok" / "logs"
# container name -> (current log, previous log) served by kwok as the "kubelet" of the fake nodes
CONTAINER_LOGS = {
    "api": ("api-previous.log", "api-previous.log"),
    "worker": ("worker-previous.log", "worker-previous.log"),
    "web": ("nginx.log", None), "shop": ("nginx.log", None), "server": ("nginx.log", None),
    "checkout": ("checkout.log", None),
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


def kwok_config_args() -> list[str]:
    stages = sorted((LAB / "stages").glob("*.yaml"))
    if not stages:
        raise LabError(f"kwok: no stages in {LAB / 'stages'}")
    out: list[str] = []
    for s in stages:
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
            "--controllers=*",
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


# --------------------------------------------------------------------------------------------
# processes


def read_pid(comp: Component) -> int | None:
    try:
        return int(comp.pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def pid_alive(pid: int, binary_name: str | None = None) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
        return False
    if binary_name:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        if not cmdline or Path(cmdline[0].decode(errors="replace")).name != binary_name:
            return False
    return True


def running_pid(comp: Component) -> int | None:
    pid = read_pid(comp)
    if pid and pid_alive(pid, comp.binary):
        return pid
    return None


def start(comp: Component) -> subprocess.Popen:
    exe = binary(comp.binary)
    for port, host in comp.ports:
        if not port_free(port, host):
            raise LabError(f"{comp.name}: port {port} is already in use on {host} "
                           f"(stop whatever listens there, or run scripts/lab down)")
    args = comp.args()
    env = {**os.environ, **comp.env()}
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    with comp.log.open("ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} lab: starting {exe} {' '.join(args)}\n".encode())
        log.flush()
        proc = subprocess.Popen([str(exe), *args], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                cwd=str(STATE), env=env, start_new_session=True)
    comp.pidfile.write_text(f"{proc.pid}\n")
    return proc


def wait_healthy(comp: Component, proc: subprocess.Popen | None) -> None:
    deadline = time.monotonic() + comp.start_timeout
    detail = ""
    passes = 0
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise LabError(f"{comp.name} exited during start-up (exit code {proc.returncode}); see {comp.log}")
        ok, detail = comp.health()
        passes = passes + 1 if ok else 0
        # two healthy answers in a row from a process that is still alive
        if passes >= 2 and (proc is None or proc.poll() is None):
            return
        time.sleep(0.2 if ok else 0.3)
    raise LabError(f"{comp.name} not healthy after {comp.start_timeout:.0f}s ({detail}); see {comp.log}")


def stop(comp: Component, timeout: float = STOP_TIMEOUT) -> str:
    pid = read_pid(comp)
    if pid is None:
        return "not running"
    if not pid_alive(pid, comp.binary):
        comp.pidfile.unlink(missing_ok=True)
        return "not running (stale pid file removed)"
    try:
        os.killpg(pid, signal.SIGTERM)  # started with start_new_session: pgid == pid
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.1)
    how = "stopped"
    if pid_alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        kill_deadline = time.monotonic() + 5
        while time.monotonic() < kill_deadline and pid_alive(pid):
            time.sleep(0.1)
        how = "killed (SIGKILL after SIGTERM timeout)"
    comp.pidfile.unlink(missing_ok=True)
    return how


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# --------------------------------------------------------------------------------------------
# kubectl / helm


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


@contextlib.contextmanager
def state_lock(timeout: float = 900):
    """One `up`/`down`/`issues` at a time per state dir (test sessions may start in parallel)."""
    STATE.mkdir(parents=True, exist_ok=True)
    lock_path = STATE / ".lock"
    with lock_path.open("w") as f:
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LabError(f"another scripts/lab command has held {lock_path} for over {timeout:.0f}s")
                if not waited:
                    say(f"waiting for another scripts/lab command to finish (lock {lock_path})")
                    waited = True
                time.sleep(0.5)
        yield


# --------------------------------------------------------------------------------------------
# up


def ensure_pki() -> None:
    sans = ["DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc",
            "DNS:kubernetes.default.svc.cluster.local", f"IP:{HOST}", f"IP:{FIRST_SERVICE_IP}"]
    pki = PKI(PKI_DIR, sans)
    pki.ensure_ca()
    pki.ensure_sa_keys()
    pki.ensure_cert("apiserver", "kube-apiserver", server=True)
    pki.ensure_cert("kwok-serving", "kwok", server=True)
    identities = {
        # name: (CN, groups, kubeconfig path)
        "admin": ("lab-admin", ("system:masters",), ADMIN_KUBECONFIG),
        "kube-controller-manager": ("system:kube-controller-manager", (), PKI_DIR / "kube-controller-manager.kubeconfig"),
        "kube-scheduler": ("system:kube-scheduler", (), PKI_DIR / "kube-scheduler.kubeconfig"),
        "kwok": ("kwok-controller", (), PKI_DIR / "kwok.kubeconfig"),
        "app": ("cluster-codex-app", (), APP_KUBECONFIG),
    }
    for name, (cn, groups, kc) in identities.items():
        crt, key = pki.ensure_cert(name, cn, groups)
        if not kc.exists():
            write_kubeconfig(kc, APISERVER_URL, pki.ca_crt, crt, key, cn)


def write_k8sgpt_config() -> None:
    cfg = HOME_DIR / ".config" / "k8sgpt" / "k8sgpt.yaml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    # `k8sgpt serve` exits unless an AI provider is configured; noopai is k8sgpt's built-in no-op
    # backend (AI is off in the K8sGPT object anyway, so it is never asked to explain).
    cfg.write_text("ai:\n  providers:\n  - name: noopai\n    model: noop\n  defaultprovider: noopai\n"
                   f"kubeconfig: {ADMIN_KUBECONFIG}\n")


def all_running() -> bool:
    return all(running_pid(c) for c in COMPONENTS)


def check_binaries() -> None:
    for tool in ("openssl",):
        if shutil.which(tool) is None:
            raise LabError(f"{tool} not found on PATH (apt-get install {tool})")
    for comp in COMPONENTS:
        binary(comp.binary)
    binary("kubectl")
    binary("helm")
    operator_crds_dir()


def start_component(comp: Component, started: list[Component]) -> None:
    if running_pid(comp):
        wait_healthy(comp, None)
        return
    t0 = time.monotonic()
    proc = start(comp)
    started.append(comp)
    wait_healthy(comp, proc)
    say(f"{comp.name} healthy (pid {proc.pid}, {time.monotonic() - t0:.1f}s)")


def post_apiserver() -> None:
    kubectl("apply", "-f", str(LAB / "manifests" / "kwok-rbac.yaml"))


def post_kwok() -> None:
    kubectl("apply", "-f", str(LAB / "manifests" / "nodes.yaml"))
    kubectl("wait", "--for=condition=Ready", "node", "-l", "type=kwok", "--timeout=60s", timeout=75)


def install_crds() -> None:
    crds = operator_crds_dir()
    kubectl("apply", "--server-side", "--force-conflicts", "-f", str(crds))
    names = []
    for f in sorted(crds.glob("*.yaml")):
        m = re.search(r"^  name: (\S+)", f.read_text(), re.M)
        if m:
            names.append(f"crd/{m.group(1)}")
    kubectl("wait", "--for=condition=Established", "--timeout=60s", *names, timeout=75)


def install_app_chart() -> None:
    chart = ROOT / "charts" / "cluster-codex"
    if not (chart / "Chart.yaml").exists():
        say("charts/cluster-codex not present yet: skipped the app's RBAC chart")
        return
    helm("upgrade", "--install", "cluster-codex", str(chart), "--namespace", "cluster-codex", "--create-namespace",
         "--set", "appSubject.kind=User", "--set", "appSubject.name=cluster-codex-app",
         "--set", f"k8sgptNamespace={K8SGPT_NAMESPACE}", "--set", "usersNamespace=cluster-codex-users",
         "--timeout", "2m")
    say("installed charts/cluster-codex (release cluster-codex, namespace cluster-codex)")


def cmd_up(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    check_binaries()
    with state_lock():
        return _up(args, t0)


def _up(args: argparse.Namespace, t0: float) -> int:
    if all_running():
        unhealthy = [c.name for c in COMPONENTS if not c.health()[0]]
        if unhealthy:
            say(f"lab already running, but not healthy: {', '.join(unhealthy)} (see scripts/lab status)")
        else:
            say(f"lab already running ({STATE}); nothing to do")
        return 0
    for d in (STATE, PKI_DIR, RUN_DIR, LOG_DIR, HOME_DIR):
        d.mkdir(parents=True, exist_ok=True)
    ensure_pki()
    write_k8sgpt_config()
    started: list[Component] = []
    try:
        for comp in COMPONENTS:
            if comp.name == "k8sgpt":
                install_crds()
                ensure_namespace(K8SGPT_NAMESPACE)
            start_component(comp, started)
            if comp.name == "kube-apiserver":
                post_apiserver()
            elif comp.name == "kwok":
                post_kwok()
                say("3 fake nodes Ready")
        kubectl("apply", "-f", str(LAB / "manifests" / "k8sgpt.yaml"))
    except (LabError, CertError) as exc:
        for comp in reversed(started):
            stop(comp)
        raise LabError(f"{exc} (stopped what this run started)") from exc
    except KeyboardInterrupt:
        for comp in reversed(started):
            stop(comp)
        raise
    try:
        install_app_chart()
    except LabError as exc:
        raise LabError(f"cluster-codex chart: {exc} (the lab itself is up)") from exc
    say(f"lab up in {time.monotonic() - t0:.1f}s; {env_line()}")
    if args.wait_results:
        t1 = time.monotonic()
        poll("the first K8sGPT Result", lambda: result_count() > 0, args.wait_results, interval=1)
        say(f"first Results after {time.monotonic() - t0:.1f}s ({time.monotonic() - t1:.1f}s after up)")
    return 0


def result_count() -> int:
    proc = kubectl("get", "results.core.k8sgpt.ai", "-n", K8SGPT_NAMESPACE, "-l", "k8sgpts.k8sgpt.ai/name",
                   "-o", "name", check=False)
    return len([l for l in proc.stdout.splitlines() if l.strip()]) if proc.returncode == 0 else 0


# --------------------------------------------------------------------------------------------
# down / status / env / cert / issues


def cmd_down(args: argparse.Namespace) -> int:
    if not STATE.exists():
        say(f"no lab state at {STATE}; nothing to stop")
        return 0
    with state_lock():
        return _down(args)


def _down(args: argparse.Namespace) -> int:
    for comp in reversed(COMPONENTS):
        how = stop(comp)
        say(f"{comp.name}: {how}")
    if args.purge:
        if STATE.exists():
            shutil.rmtree(STATE)
        say(f"purged {STATE}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    rows = []
    total_rss = 0
    all_ok = True
    for comp in COMPONENTS:
        pid = running_pid(comp)
        if pid:
            ok, detail = comp.health()
            rss = rss_kib(pid)
            total_rss += rss
        else:
            ok, detail, rss = False, "not running", 0
        all_ok &= ok
        port = comp.port_label
        if comp.name == "k8sgpt-operator" and pid and operator_probe_port():
            port = f"probe {operator_probe_port()}"
        rows.append((comp.name, str(pid or "-"), port, ("ok  " if ok else "FAIL") + " " + detail,
                     f"{rss / 1024:.0f} MiB" if rss else "-"))
    widths = [max(len(r[i]) for r in rows + [("COMPONENT", "PID", "PORT", "HEALTH", "RSS")]) for i in range(5)]
    for r in [("COMPONENT", "PID", "PORT", "HEALTH", "RSS")] + rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
    print(f"state {STATE}  logs {LOG_DIR}  total RSS {total_rss / 1024:.0f} MiB")
    return 0 if all_ok else 1


def env_line() -> str:
    return f"export KUBECONFIG={ADMIN_KUBECONFIG}"


def cmd_env(args: argparse.Namespace) -> int:
    print(env_line())
    return 0


def cmd_cert(args: argparse.Namespace) -> int:
    if not (PKI_DIR / "ca.key").exists():
        raise LabError("no lab CA yet; run scripts/lab up first")
    user = check_subject_part(args.user)
    groups = tuple(check_subject_part(g) for g in args.groups)
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", user)
    if groups:
        stem += "--" + "+".join(re.sub(r"[^A-Za-z0-9._-]", "_", g) for g in groups)
    pki = PKI(PKI_DIR, [])
    crt, key = pki.ensure_cert(stem, user, groups, force=True, out_dir=USERS_DIR)
    path = write_kubeconfig(USERS_DIR / f"{stem}.kubeconfig", APISERVER_URL, pki.ca_crt, crt, key, user)
    print(path)
    return 0


def known_issue_charts() -> list[tuple[str, str, Path]]:
    out = []
    base = ROOT / "charts" / "known-issues"
    for chart_yaml in sorted(base.glob("*/Chart.yaml")):
        text = chart_yaml.read_text()
        name = re.search(r"^name:\s*(\S+)", text, re.M)
        ns = re.search(r"cluster-codex\.io/namespace:\s*\"?([a-z0-9-]+)", text)
        if not (name and ns):
            raise LabError(f"{chart_yaml}: needs name and annotation cluster-codex.io/namespace")
        out.append((name.group(1), ns.group(1), chart_yaml.parent))
    if not out:
        raise LabError(f"no charts in {base}")
    return out


def cmd_issues(args: argparse.Namespace) -> int:
    with state_lock():
        return _issues(args)


def _issues(args: argparse.Namespace) -> int:
    if not running_pid(BY_NAME["kube-apiserver"]):
        raise LabError("the lab is not running; run scripts/lab up first")
    charts = known_issue_charts()
    if args.action == "install":
        for ns in sorted({ns for _, ns, _ in charts}):
            ensure_namespace(ns)
        for name, ns, path in charts:
            helm("upgrade", "--install", name, str(path), "--namespace", ns, "--timeout", "2m")
            say(f"installed {name} in {ns}")
    else:
        for name, ns, _ in charts:
            proc = helm("uninstall", name, "--namespace", ns, "--timeout", "2m", check=False)
            if proc.returncode == 0:
                say(f"uninstalled {name} from {ns}")
            elif "not found" in proc.stderr:
                say(f"{name} was not installed in {ns}")
            else:
                raise LabError(f"helm uninstall {name} failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    return 0


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/lab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the lab (idempotent)")
    up.add_argument("--wait-results", type=float, default=0, metavar="SECONDS",
                    help="after up, wait up to SECONDS for the first K8sGPT Result")
    up.set_defaults(fn=cmd_up)
    down = sub.add_parser("down", help="stop every lab process")
    down.add_argument("--purge", action="store_true", help="also delete the state directory")
    down.set_defaults(fn=cmd_down)
    sub.add_parser("status", help="show each component, pid, port, health").set_defaults(fn=cmd_status)
    sub.add_parser("env", help="print the KUBECONFIG export line").set_defaults(fn=cmd_env)
    cert = sub.add_parser("cert", help="write a kubeconfig for a client-certificate identity; prints its path")
    cert.add_argument("user")
    cert.add_argument("groups", nargs="*")
    cert.set_defaults(fn=cmd_cert)
    issues = sub.add_parser("issues", help="install or uninstall the known-issue charts")
    issues.add_argument("action", choices=["install", "uninstall"])
    issues.set_defaults(fn=cmd_issues)
    args = parser.parse_args(argv)
    try:
        return args.fn(args)
    except (LabError, CertError) as exc:
        print(f"lab: error: {exc}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
