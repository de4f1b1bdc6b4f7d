"""Benchmark the issue dashboard and the pods tab at scale, against the lab.

Creates 2,000 K8sGPT Results (in the K8sGPT namespace, about objects spread over the bench
namespaces) and 10,000 plain Pods (on no node: their schedulerName names no scheduler, so nothing
churns),
all labelled bench=true, with the admin kubeconfig and a thread pool. Starts the app under
gunicorn on a free loopback port with its own SQLite file, creates two users (one granted every
bench namespace, one granted a single namespace), syncs their RBAC, and measures over HTTP:

- the dashboard, first page and a filtered page;
- the pods tab, first page and a filtered page (a text filter and a label selector);

p50/p95 over --requests requests each, beside the raw API list of the same objects (the 2,000
Results as the app, the user's pods as the user) timed in the same run. Prints a table with the
ratios and deletes everything it created (also on Ctrl-C).

    .venv/bin/python bench/dashboard_bench.py [--requests 50] [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.cluster.gateway import (  # noqa: E402
    ClusterError, Conflict, Gateway, NotFound, user_subject_name)

LAB = Path(os.environ.get("CODEX_LAB_DIR") or ROOT / ".lab")
K8SGPT_NS = os.environ.get("CODEX_K8SGPT_NAMESPACE", "k8sgpt")
NAMESPACES = [f"bench-{i:02d}" for i in range(10)]
PODS, RESULTS, APPS = 10_000, 2_000, 20
LABEL = {"bench": "true"}
PASSWORD = secrets.token_urlsafe(16)  # per run: no password lives in the repo
RESULTS_PATH = f"/apis/core.k8sgpt.ai/v1alpha1/namespaces/{K8SGPT_NS}/results"


def pod_name(i: int) -> str:
    return f"svc-{i % APPS:02d}-{i:05d}"


def pod_namespace(i: int) -> str:
    # Blocks of APPS consecutive pods per namespace: every namespace holds every app.
    return NAMESPACES[(i // APPS) % len(NAMESPACES)]


def pod_body(i: int) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod_name(i), "labels": {**LABEL, "app": f"svc-{i % APPS:02d}"}},
        "spec": {
            # No scheduler has this name: the pod stays Pending on no node, and nothing (kwok,
            # node lifecycle, pod GC, the scheduler) writes to it while the bench runs.
            "schedulerName": "codex-bench-nobody",
            "containers": [{"name": "app", "image": f"registry.example/svc-{i % APPS:02d}:1.0"}],
        },
    }


def result_body(i: int) -> dict:
    target = i * (PODS // RESULTS) + i % (PODS // RESULTS)  # every app gets findings
    return {
        "apiVersion": "core.k8sgpt.ai/v1alpha1", "kind": "Result",
        "metadata": {"name": f"bench-result-{i:05d}", "labels": dict(LABEL)},
        "spec": {
            "kind": "Pod", "name": f"{pod_namespace(target)}/{pod_name(target)}",
            "error": [{"text": f"the last termination reason is Error container=app "
                               f"pod={pod_name(target)}", "sensitive": []}],
            "details": "", "parentObject": f"Deployment/svc-{target % APPS:02d}",
            "backend": "noopai", "autoRemediationStatus": {},
        },
    }


class Lab:
    """The objects the bench creates, as the lab's administrator."""

    def __init__(self):
        self.gw = Gateway(kubeconfig=str(LAB / "kubeconfig"), timeout=(5, 120))
        self.api = self.gw.as_app()

    def post(self, path: str, body: dict) -> None:
        try:
            self.gw.request(self.api, "POST", path, body=body)
        except Conflict:
            pass

    def setup(self) -> None:
        for ns in NAMESPACES:
            self.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                             "metadata": {"name": ns, "labels": dict(LABEL)}})
        self._wait_for_service_accounts()
        if self.count("/api/v1/pods") >= PODS and self.count(RESULTS_PATH) >= RESULTS:
            print("bench objects already in place (--keep from an earlier run)", flush=True)
            return
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(lambda i: self.post(f"/api/v1/namespaces/{pod_namespace(i)}/pods",
                                              pod_body(i)), range(PODS)))
            list(pool.map(lambda i: self.post(RESULTS_PATH, result_body(i)), range(RESULTS)))
        print(f"created {PODS} pods and {RESULTS} Results in "
              f"{time.perf_counter() - started:.1f}s", flush=True)

    def count(self, path: str) -> int:
        """Count the bench=true objects at path without listing them all."""
        data = self.gw.get(self.api, path, labelSelector="bench=true", limit=1)
        items = len(data.get("items") or [])
        return items + int((data.get("metadata") or {}).get("remainingItemCount") or 0)

    def _wait_for_service_accounts(self, timeout: float = 60) -> None:
        # The ServiceAccount admission plugin refuses pods until "default" exists.
        deadline = time.monotonic() + timeout
        for ns in NAMESPACES:
            while True:
                try:
                    self.gw.get(self.api, f"/api/v1/namespaces/{ns}/serviceaccounts/default")
                    break
                except NotFound:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"no default ServiceAccount in {ns} after {timeout}s")
                    time.sleep(0.5)

    def cleanup(self) -> None:
        selector = "bench=true"
        try:
            self.gw.request(self.api, "DELETE", RESULTS_PATH, query={"labelSelector": selector})
            for ns in NAMESPACES:
                self.gw.request(self.api, "DELETE", f"/api/v1/namespaces/{ns}/pods",
                                query={"labelSelector": selector, "gracePeriodSeconds": 0})
                self.gw.request(self.api, "DELETE", f"/api/v1/namespaces/{ns}")
        except NotFound:
            pass
        except ClusterError as exc:
            print(f"cleanup incomplete: {exc.message}", file=sys.stderr)
        print("cleaned up bench objects", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(db_url: str) -> dict:
    env = dict(os.environ)
    env.update(CODEX_DATABASE_URL=db_url, CODEX_KUBECONFIG=str(LAB / "app.kubeconfig"),
               CODEX_SECRET_KEY=secrets.token_hex(32), CODEX_RBAC_SYNC_INTERVAL="0")
    return env


def create_users(env: dict) -> dict[str, int]:
    """Create the two bench users with their grants and sync their RBAC, in this process."""
    os.environ.update(env)
    from app import create_app
    from app.cluster.rbac_sync import sync_user
    from app.config import Config
    from app.extensions import db
    from app.models import Grant, User

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = env["CODEX_DATABASE_URL"]
        CODEX_KUBECONFIG = env["CODEX_KUBECONFIG"]
        SECRET_KEY = env["CODEX_SECRET_KEY"]
        CODEX_RBAC_SYNC_INTERVAL = 0

    app = create_app(BenchConfig)
    ids = {}
    with app.app_context():
        for username, namespaces in (("bench-all", NAMESPACES), ("bench-one", NAMESPACES[:1])):
            user = User(username=username)
            user.set_password(PASSWORD)
            for ns in namespaces:
                grant = Grant(namespace=ns)
                grant.kinds = {"pods", "events"}
                user.grants.append(grant)
            db.session.add(user)
            db.session.commit()
            sync_user(user)
            ids[username] = user.id
    return ids


def start_gunicorn(env: dict, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "--workers", "2", "--threads", "4",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "app:create_app()"],
        cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("gunicorn did not answer /healthz within 120s")


def login(base: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    form = {"username": username, "password": PASSWORD}
    if token:
        form["csrf_token"] = token.group(1)
    response = session.post(f"{base}/login", data=form, timeout=10)
    if response.status_code >= 400 or "/login" in response.url:
        raise SystemExit(f"bench login as {username} failed: {response.status_code}")
    return session


def timed(fn, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def page_fetcher(session: requests.Session, url: str, expect: str):
    def fetch():
        response = session.get(url, timeout=30)
        if response.status_code != 200 or expect not in response.text:
            raise SystemExit(f"GET {url} -> {response.status_code}, {expect!r} not in page")
    return fetch


def raw_lister(gw: Gateway, api, paths: list[str]):
    def fetch():
        for path in paths:
            gw.get(api, path)
    return fetch


def measure(base: str, count: int, user_ids: dict[str, int]
            ) -> list[tuple[str, list[float], list[float]]]:
    app_gw = Gateway(kubeconfig=str(LAB / "app.kubeconfig"), timeout=(5, 120))
    raw_results = raw_lister(app_gw, app_gw.as_app(), [RESULTS_PATH])
    rows = []
    raw_count = max(count // 5, 10)
    for username, namespaces in (("bench-all", NAMESPACES), ("bench-one", NAMESPACES[:1])):
        session = login(base, username)
        user_gw = Gateway(kubeconfig=str(LAB / "app.kubeconfig"), timeout=(5, 120))
        user_api = user_gw.as_app()
        # The raw list as the user: the same impersonation headers the app sends.
        user_api.set_default_header("Impersonate-User", user_subject_name(user_ids[username]))
        user_api.set_default_header("Impersonate-Group", "cluster-codex:users")
        raw_pods = raw_lister(user_gw, user_api,
                              [f"/api/v1/namespaces/{ns}/pods" for ns in namespaces])
        pages = [
            ("dashboard, first page", f"{base}/", "issues-table", raw_results),
            ("dashboard, filtered", f"{base}/?q=svc-06", "issues-table", raw_results),
            ("pods, first page", f"{base}/resources/pods", "resource-table", raw_pods),
            ("pods, text filter", f"{base}/resources/pods?q=svc-07", "resource-table", raw_pods),
            ("pods, label filter", f"{base}/resources/pods?q=-l+app%3Dsvc-07", "resource-table",
             raw_pods),
        ]
        for label, url, expect, raw in pages:
            fetch = page_fetcher(session, url, expect)
            timed(fetch, 3)  # warm both workers' caches and connections
            page_ms = timed(fetch, count)
            raw_ms = timed(raw, raw_count)
            rows.append((f"{username} ({len(namespaces)} ns): {label}", page_ms, raw_ms))
            print(f"  measured {rows[-1][0]}: p50 {percentile(page_ms, 50):.1f} ms, "
                  f"p95 {percentile(page_ms, 95):.1f} ms, raw p50 {percentile(raw_ms, 50):.1f} "
                  f"ms, raw p95 {percentile(raw_ms, 95):.1f} ms", flush=True)
    return rows


def report(rows, count: int) -> None:
    """Print page p50/p95 beside the raw list's p50/p95, and the ratios p50:p50, p95:p95."""
    print()
    print(f"{'page':<44} {'p50 ms':>8} {'p95 ms':>8} {'raw p50':>8} {'raw p95':>8} "
          f"{'p50/raw':>8} {'p95/raw':>8}  (n={count} pages)")
    for label, page_ms, raw_ms in rows:
        p50, p95 = percentile(page_ms, 50), percentile(page_ms, 95)
        raw50, raw95 = percentile(raw_ms, 50), percentile(raw_ms, 95)
        flag = "" if p95 < 300 and p95 <= raw95 else "  <-- over target"
        print(f"{label:<44} {p50:8.1f} {p95:8.1f} {raw50:8.1f} {raw95:8.1f} "
              f"{p50 / raw50:8.2f} {p95 / raw95:8.2f}{flag}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="leave the bench objects in place")
    args = parser.parse_args()
    lab = Lab()
    workdir = tempfile.mkdtemp(prefix="codex-bench-")
    env = app_env(f"sqlite:///{workdir}/bench.db")
    gunicorn = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        lab.setup()
        user_ids = create_users(env)
        port = free_port()
        gunicorn = start_gunicorn(env, port)
        rows = measure(f"http://127.0.0.1:{port}", args.requests, user_ids)
        report(rows, args.requests)
    finally:
        if gunicorn is not None:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(timeout=30)
        if not args.keep:
            lab.cleanup()


if __name__ == "__main__":
    main()
