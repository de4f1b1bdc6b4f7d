"""Is it up? Stdlib HTTP(S) and TCP checks, and the health check of each lab component (what
`up` waits for and `status` shows). A check returns (ok, one-line detail) and never raises."""

from __future__ import annotations

import re
import socket
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from .paths import APISERVER_URL, EXPLAINER_PORT, HOST, LOG_DIR, PKI_DIR


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
# per component


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


def explainer_health() -> tuple[bool, str]:
    code, body = http_get(f"http://{HOST}:{EXPLAINER_PORT}/healthz")
    return (True, "serving (/healthz ok)") if code == 200 else (False, f"/healthz: {code or body}")


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
