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

    .venv/bin/python -m bench.dashboard_bench [--requests 50] [--keep]   # from the repository root
"""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from app.cluster.gateway import ClusterError, Gateway, user_subject_name
from tests.support.app_server import AppServer
from tests.support.http_session import HttpSession
from tests.support.lab_kube import APP_KUBECONFIG, RESULTS as RESULTS_PATH, Kube
from tests.support.lab_namespaces import wait_for_default_service_account
from tests.support.users import add_user

NAMESPACES = [f"bench-{i:02d}" for i in range(10)]
PODS, RESULTS, APPS = 10_000, 2_000, 20
LABEL = {"bench": "true"}
PASSWORD = secrets.token_urlsafe(16)  # per run: no password lives in the repo


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


class BenchObjects:
    """The objects the bench creates, as the lab's administrator."""

    def __init__(self, kube: Kube):
        self.kube = kube

    def setup(self) -> None:
        for ns in NAMESPACES:
            self.kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                    "metadata": {"name": ns, "labels": dict(LABEL)}})
        wait_for_default_service_account(self.kube, NAMESPACES)
        if self.count("/api/v1/pods") >= PODS and self.count(RESULTS_PATH) >= RESULTS:
            print("bench objects already in place (--keep from an earlier run)", flush=True)
            return
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(lambda i: self.kube.create(f"/api/v1/namespaces/{pod_namespace(i)}/pods",
                                                     pod_body(i)), range(PODS)))
            list(pool.map(lambda i: self.kube.create(RESULTS_PATH, result_body(i)), range(RESULTS)))
        print(f"created {PODS} pods and {RESULTS} Results in "
              f"{time.perf_counter() - started:.1f}s", flush=True)

    def count(self, path: str) -> int:
        """Count the bench=true objects at path without listing them all."""
        data = self.kube.get(path, labelSelector="bench=true", limit=1)
        items = len(data.get("items") or [])
        return items + int((data.get("metadata") or {}).get("remainingItemCount") or 0)

    def cleanup(self) -> None:
        selector = "bench=true"
        try:
            self.kube.delete(RESULTS_PATH, labelSelector=selector)
            for ns in NAMESPACES:
                self.kube.delete(f"/api/v1/namespaces/{ns}/pods", labelSelector=selector,
                                 gracePeriodSeconds=0)
                self.kube.delete(f"/api/v1/namespaces/{ns}")
        except ClusterError as exc:
            print(f"cleanup incomplete: {exc.message}", file=sys.stderr)
        print("cleaned up bench objects", flush=True)


BENCH_USERS = {"bench-all": NAMESPACES, "bench-one": NAMESPACES[:1]}


def create_users(server: AppServer) -> dict[str, int]:
    """Create the bench users with their grants and sync their RBAC, in this process."""
    with server.in_process_app():
        return {username: add_user(username, password=PASSWORD, sync=True,
                                   grants={ns: {"pods", "events"} for ns in namespaces})
                for username, namespaces in BENCH_USERS.items()}


def login(base: str, username: str) -> requests.Session:
    return HttpSession(base).sign_in(username, PASSWORD).http


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
    app_gw = Gateway(kubeconfig=str(APP_KUBECONFIG), timeout=(5, 120))
    raw_results = raw_lister(app_gw, app_gw.as_app(), [RESULTS_PATH])
    rows = []
    raw_count = max(count // 5, 10)
    for username, namespaces in BENCH_USERS.items():
        session = login(base, username)
        user_gw = Gateway(kubeconfig=str(APP_KUBECONFIG), timeout=(5, 120))
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
    kube = Kube(timeout=(5, 120))  # deleting 1,000 pods at once takes a while
    objects = BenchObjects(kube)
    # The app's own Results cache age (an empty value is the default), not the tests' shorter one.
    server = AppServer(kubeconfig=APP_KUBECONFIG, workers=2, threads=4, access_log=False,
                       extra_env={"CODEX_RESULTS_MAX_AGE": ""})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        objects.setup()
        server.prepare_database()
        user_ids = create_users(server)
        with server:
            rows = measure(server.url, args.requests, user_ids)
        report(rows, args.requests)
    finally:
        server.cleanup()
        if not args.keep:
            objects.cleanup()
        kube.close()


if __name__ == "__main__":
    main()
