"""Benchmark the dashboard's push: from a K8sGPT Result written in the lab to the changed row at every
open dashboard, with --clients (default 500) dashboards open across --replicas (default 2) replicas.

Starts PostgreSQL and Redis (Debian's) and the replicas under gunicorn, each watching the lab's Results
(one list-and-watch per process), creates a test-made namespace and a developer granted it, and opens
the clients' push streams the way the dashboard page does (its sse-connect URL). Then, --rounds times
(default 5), writes one new Result about that namespace and times its arrival (a ``region`` event
naming it) at every client. Prints p50/p95 over all arrivals beside the baseline measured in the same
run: the time the API server itself takes to deliver the same change to a plain watch of Results.

    .venv/bin/python -m bench.dashboard_push_bench [--clients 500] [--replicas 2] [--rounds 5]
"""

from __future__ import annotations

import argparse
import re
import secrets
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

from tests.support.app_server import AppServer
from tests.support.http_session import HttpSession
from tests.support.lab_kube import APP_KUBECONFIG, RESULTS, Kube, result_body
from tests.support.lab_namespaces import lab_namespaces
from tests.support.postgres_server import PostgresServer
from tests.support.redis_server import RedisServer
from tests.support.users import add_user

PASSWORD = "bench-password-" + secrets.token_hex(4)
LABEL = {"codex-test": "push-bench"}


def pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


class Client(threading.Thread):
    """One open dashboard: reads its push stream and notes when each awaited name arrives."""

    def __init__(self, replica, cookies):
        super().__init__(daemon=True)
        self.http = requests.Session()
        self.http.cookies.update(cookies)
        page = self.http.get(f"{replica.url}/", timeout=30).text
        self.url = replica.url + re.search(r'sse-connect="([^"]+)"', page).group(1).replace("&amp;", "&")
        self.arrived: dict[str, float] = {}
        self.ready = threading.Event()
        self.error = None

    def run(self):
        try:
            with self.http.get(self.url, stream=True, timeout=(10, 600)) as response:
                response.raise_for_status()
                self.ready.set()
                for line in response.iter_lines(decode_unicode=True):
                    for name in re.findall(r"push-[0-9a-f]{8}", line or ""):
                        self.arrived.setdefault(name, time.monotonic())
        except Exception as exc:  # noqa: BLE001 - counted and shown
            self.error = f"{type(exc).__name__}: {exc}"
            self.ready.set()


def api_watch_delay(kube, name_seen: dict, stop: threading.Event):
    """The baseline: a plain watch of Results as the app, noting when each new name is delivered."""
    from app.cluster.gateway import Gateway

    gw = Gateway(kubeconfig=str(APP_KUBECONFIG))
    _, version = gw.list_results_with_version()
    while not stop.is_set():
        for _, obj in gw.watch_results(version, timeout_seconds=30):
            version = obj.get("metadata", {}).get("resourceVersion") or version
            for name in re.findall(r"push-[0-9a-f]{8}", str(obj.get("spec", {}).get("name", ""))):
                name_seen.setdefault(name, time.monotonic())
            if stop.is_set():
                return


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=160, help="gunicorn threads per process (one per open stream)")
    args = parser.parse_args(argv)
    kube = Kube()
    workdir = Path(tempfile.mkdtemp(prefix="codex-push-bench-"))
    ns = f"codex-push-{uuid.uuid4().hex[:6]}"
    postgres = PostgresServer().start()
    try:
        postgres.execute("CREATE DATABASE codex_push")
        with RedisServer() as redis_server, lab_namespaces(kube, (ns,), LABEL):
            shared = {"CODEX_DATABASE_URL": postgres.url("codex_push"), "CODEX_REDIS_URL": redis_server.url(),
                      "CODEX_SECRET_KEY": secrets.token_hex(32),
                      # Every client a push stream (a few threads left for the pages themselves).
                      "CODEX_PUSH_STREAMS": str(args.threads - 8)}
            replicas = [AppServer(kubeconfig=APP_KUBECONFIG, workers=args.workers, threads=args.threads,
                                  access_log=False, extra_env=shared, workdir=workdir / f"app-{n}")
                        for n in range(args.replicas)]
            replicas[0].prepare_database()
            with replicas[0].in_process_app():
                add_user("pushed", password=PASSWORD, grants={ns: {"pods", "events"}}, sync=True)
            for replica in replicas:
                replica.start()
            try:
                return measure(args, kube, ns, replicas)
            finally:
                for replica in replicas:
                    replica.stop()
    finally:
        postgres.stop()


def measure(args, kube, ns, replicas):
    cookies = HttpSession(replicas[0].url).sign_in("pushed", PASSWORD).http.cookies
    clients = [Client(replicas[n % len(replicas)], cookies) for n in range(args.clients)]
    for client in clients:
        client.start()
    for client in clients:
        client.ready.wait(60)
    failed = [c.error for c in clients if c.error]
    api_seen, stop = {}, threading.Event()
    threading.Thread(target=api_watch_delay, args=(kube, api_seen, stop), daemon=True).start()
    time.sleep(2)
    delays, baseline, written = [], [], {}
    try:
        for _ in range(args.rounds):
            name = f"push-{uuid.uuid4().hex[:8]}"
            written[name] = time.monotonic()
            kube.create(RESULTS, result_body(f"{ns}-{name}", "Pod", f"{ns}/{name}", "back-off restarting",
                                             labels=LABEL))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not all(name in c.arrived for c in clients if not c.error):
                time.sleep(0.05)
            delays += [c.arrived[name] - written[name] for c in clients if name in c.arrived]
            if name in api_seen:
                baseline.append(api_seen[name] - written[name])
            time.sleep(1)
    finally:
        stop.set()
        kube.delete(RESULTS, labelSelector="codex-test=push-bench")
    expected = args.rounds * (args.clients - len(failed))
    print(f"\nDashboard push bench: {args.clients} open dashboards over {len(replicas)} replicas "
          f"(gunicorn {args.workers} x {args.threads} threads each), PostgreSQL + Redis, {args.rounds} Results written\n")
    print(f"{'seconds from the Result written':48} {'p50':>7} {'p95':>7} {'max':>7}")
    if baseline:
        print(f"{'plain API watch delivers it (baseline)':48} {pct(baseline, 50):7.3f} {pct(baseline, 95):7.3f} "
              f"{max(baseline):7.3f}")
    if delays:
        print(f"{'the changed row at an open dashboard':48} {pct(delays, 50):7.3f} {pct(delays, 95):7.3f} "
              f"{max(delays):7.3f}")
    print(f"\narrivals {len(delays)} of {expected}; streams that failed to open: {len(failed)}")
    for error in failed[:5]:
        print("  error:", error)
    return 0 if len(delays) == expected and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
