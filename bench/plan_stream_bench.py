"""Benchmark plan jobs and their streams: the SSE endpoint's latency over the model's, and many
streams at once across several replicas.

Starts PostgreSQL and Redis (Debian's), the offline planner and --replicas copies of the app under
gunicorn (gthread workers) sharing them, each on a free loopback port. Plan runs are seeded straight
into the database with a realistic prompt (a crash-looping pod: finding, object YAML, events, logs)
and queued on the Redis bus the way Generate queues them, so the bench needs no cluster: a worker
of some replica writes each plan, and the SSE endpoint (of another replica, in turn) follows it. Then:

1. Latency, --runs times (default 50), interleaved so both see the same machine load:
   - the planner's own time to first token (a streamed chat completion sent straight to it with
     the same messages, timed to the first chunk carrying text);
   - from queuing the run to the first streamed byte and to the first ``plan`` event (the first
     rendered text) at a replica's SSE endpoint. The overhead is app minus planner, per pair;
     p50/p95 of each, and the ratio to the baseline.
2. Load: --concurrent runs (default 200) queued at once, each followed to ``done`` on the replicas in
   turn; errors counted (anything but a 200 ending in a successful ``done``); each replica's RSS
   (gunicorn master + workers, from /proc) sampled every 50 ms before and during the burst.

    .venv/bin/python -m bench.plan_stream_bench [--runs 50] [--concurrent 200] [--replicas 2]
        [--workers 2] [--threads 64] [--plan-workers 60] [--delay-ms 15]
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from app.plans.bus import RedisBus
from tests.support.app_server import AppServer
from tests.support.http_session import HttpSession
from tests.support.lab_kube import write_unreachable_kubeconfig
from tests.support.planner_process import PlannerProcess
from tests.support.postgres_server import PostgresServer
from tests.support.redis_server import RedisServer
from tests.support.users import add_user

PASSWORD = "bench-password-" + secrets.token_hex(4)
NAMESPACE = "team-a"


def sample_messages():
    """Prompt messages for a crash-looping pod, built by the app's own prompt code."""
    from app.plans.core.context import GatheredContext, Section
    from app.findings import Finding
    from app.plans.core.prompts import build_messages

    finding = Finding(kind="Pod", namespace=NAMESPACE, name="crashloop-api-7d9f8-x2kq4",
                      errors=("back-off 5m0s restarting failed container=api pod=crashloop-api-7d9f8-x2kq4",),
                      parent="Deployment/crashloop-api")
    pod_yaml = "\n".join([
        "apiVersion: v1", "kind: Pod", "metadata:", f"  name: {finding.name}", f"  namespace: {NAMESPACE}",
        "  ownerReferences:", "  - kind: ReplicaSet", "    name: crashloop-api-7d9f8", "    controller: true",
        "spec:", "  containers:", "  - name: api", "    image: docker.io/library/busybox:1.36", "    env:",
        "    - name: DB_PASSWORD", "      valueFrom:", "        secretKeyRef: {name: crashloop-api-db, key: password}",
        "status:", "  containerStatuses:", "  - name: api", "    restartCount: 14", "    ready: false",
        "    state:", "      waiting: {reason: CrashLoopBackOff}",
        "    lastState:", "      terminated: {exitCode: 1, reason: Error}"])
    events = "\n".join(f"2026-11-26T10:{m:02d}:00Z Warning BackOff (x{m + 1}): Back-off restarting failed "
                       "container api" for m in range(20))
    log = "connecting to postgres at db.team-a.svc:5432\nFATAL: password authentication failed"
    gathered = GatheredContext(sections=[
        Section("object", f"Pod {NAMESPACE}/{finding.name}", pod_yaml, "yaml", {"kind": "Pod", "name": finding.name}),
        Section("events", "Recent events (oldest first)", events),
        Section("log", "Log of container api (previous instance, last 60 lines)", log, "text",
                {"container": "api", "previous": "true"}),
    ])
    return build_messages(finding, "remediation", "We rolled out v2.3 ten minutes ago.", gathered)


def seed(server: AppServer, runs: int) -> list[int]:
    """Create the bench user (granted team-a) and `runs` plan runs ready to stream."""
    with server.in_process_app():
        from app.findings import Finding
        from app.plans.runs import create_run

        user_id = add_user("bench", password=PASSWORD, grants={NAMESPACE: {"pods", "events"}},
                           grant_state="synced")
        finding = Finding(kind="Pod", namespace=NAMESPACE, name="crashloop-api-7d9f8-x2kq4")
        messages = sample_messages()
        return [create_run(user_id, "bench-result", finding, "remediation", "", "codex-offline-planner",
                           messages).id for _ in range(runs)]


def login_cookie(server: AppServer) -> str:
    """A Cookie header value for the bench user, signed in."""
    session = HttpSession(server.url).sign_in("bench", PASSWORD).http
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def gunicorn_pids(server: AppServer) -> list[int]:
    """The gunicorn master and its workers."""
    master = server.process.pid
    pids = [master]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(entry.name))
    return pids


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def planner_ttft(planner_url, model, messages):
    """Seconds from sending a streamed completion to the first chunk with text, read to the end."""
    parts = urlsplit(planner_url)
    body = json.dumps({"model": model, "messages": messages, "stream": True,
                       "stream_options": {"include_usage": True}})
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    started = time.perf_counter()
    conn.request("POST", parts.path + "/chat/completions", body, {"Content-Type": "application/json",
                                                                 "Authorization": "Bearer offline"})
    response = conn.getresponse()
    buffer = b""
    while True:
        chunk = response.read1(65536)
        if not chunk:
            raise RuntimeError("the planner stream ended before any text")
        buffer += chunk
        if re.search(rb'"content": "[^"]', buffer):
            first = time.perf_counter() - started
            conn.close()  # the rest of the plan is not needed for the baseline
            return first


def app_stream(app_url, cookie, run_id, to_the_end=True, queue=None):
    """(first byte, first plan event, total) seconds for one SSE stream read to its done event,
    timed from `queue()` (queuing the run, as Generate does) when given.

    With to_the_end False the connection is closed after the first plan event, like a browser
    closing the dialog (the plan goes on, written by its worker).
    """
    parts = urlsplit(app_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    started = time.perf_counter()
    if queue is not None:
        queue()
    conn.request("GET", f"/plans/runs/{run_id}/stream", headers={"Cookie": cookie, "Accept": "text/event-stream"})
    response = conn.getresponse()
    if response.status != 200:
        conn.close()
        raise RuntimeError(f"HTTP {response.status}")
    first_byte = first_plan = None
    buffer = b""
    while True:
        chunk = response.read1(65536)
        if not chunk:
            break
        now = time.perf_counter() - started
        first_byte = first_byte if first_byte is not None else now
        buffer += chunk
        if first_plan is None and b"event: plan" in buffer:
            first_plan = now
            if not to_the_end:
                conn.close()
                return first_byte, first_plan, now
        if b"event: done" in buffer and buffer.endswith(b"\n\n"):
            break
    total = time.perf_counter() - started
    conn.close()
    done = buffer[buffer.rfind(b"event: done"):]
    if b"Plan finished" not in done:
        raise RuntimeError("stream did not end with a finished plan: " + done[:300].decode(errors="replace"))
    return first_byte, first_plan, total


def pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def ms(value):
    return f"{value * 1000:8.1f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--concurrent", type=int, default=200)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes per replica")
    parser.add_argument("--threads", type=int, default=64, help="gunicorn threads per process")
    parser.add_argument("--plan-workers", type=int, default=60, help="plan worker threads per process")
    parser.add_argument("--delay-ms", type=int, default=15, help="the planner's pause between chunks")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.concurrent < 1 or args.replicas < 1:
        parser.error("--runs, --concurrent and --replicas must be positive")

    workdir = Path(tempfile.mkdtemp(prefix="codex-plan-bench-"))
    kubeconfig = write_unreachable_kubeconfig(workdir / "no-cluster.kubeconfig")
    messages = sample_messages()
    postgres = PostgresServer().start()
    try:
        postgres.execute("CREATE DATABASE codex_bench")
        with RedisServer() as redis_server, PlannerProcess("--delay-ms", str(args.delay_ms)) as planner:
            shared = {"CODEX_DATABASE_URL": postgres.url("codex_bench"), "CODEX_REDIS_URL": redis_server.url(),
                      "CODEX_SECRET_KEY": secrets.token_hex(32), "CODEX_PLAN_WORKERS": str(args.plan_workers),
                      "CODEX_PLAN_MAX_CONCURRENT": "100000", "CODEX_PLAN_MAX_PER_MINUTE": "100000",
                      # Seeded runs wait in the database until the bench queues them: no reaper pass meanwhile.
                      "CODEX_PLAN_LEASE_SECONDS": "3600"}
            replicas = [AppServer(kubeconfig=kubeconfig, llm_base_url=planner.base_url, workers=args.workers,
                                  threads=args.threads, access_log=False, extra_env=shared,
                                  workdir=workdir / f"app-{n}") for n in range(args.replicas)]
            replicas[0].prepare_database()
            run_ids = seed(replicas[0], args.runs + args.concurrent + 2 * args.replicas)
            bus = RedisBus(redis_server.url(), lease_seconds=10)
            for replica in replicas:
                replica.start()
            try:
                report = measure(args, replicas, planner, messages, run_ids, bus)
            finally:
                bus.close()
                for replica in replicas:
                    replica.stop()
    finally:
        postgres.stop()
    return report


def measure(args, replicas, planner, messages, run_ids, bus):
    cookie = login_cookie(replicas[0])  # one sign-in: the replicas share sessions
    ids = iter(run_ids)
    # Warm-up: the first stream pays for imports and connection pools in each replica.
    for replica in replicas:
        run_id = next(ids)
        app_stream(replica.url, cookie, run_id, queue=lambda run_id=run_id: bus.enqueue(run_id))
    planner_ttft(planner.base_url, "codex-offline-planner", messages)

    baseline, first_bytes, first_plans, overheads = [], [], [], []
    for n in range(args.runs):
        run_id, replica = next(ids), replicas[n % len(replicas)]
        base = planner_ttft(planner.base_url, "codex-offline-planner", messages)
        first_byte, first_plan, _ = app_stream(replica.url, cookie, run_id, to_the_end=False,
                                               queue=lambda run_id=run_id: bus.enqueue(run_id))
        baseline.append(base)
        first_bytes.append(first_byte)
        first_plans.append(first_plan)
        overheads.append(first_plan - base)
    time.sleep(args.delay_ms / 1000 * 400)  # the latency runs' plans finish (nobody follows them)

    idle = [rss_kib(gunicorn_pids(r)) for r in replicas]
    samples, stop = {n: [] for n in range(len(replicas))}, threading.Event()

    def sample():
        while not stop.is_set():
            for n, replica in enumerate(replicas):
                samples[n].append(rss_kib(gunicorn_pids(replica)))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    errors, totals = [], []
    burst = [next(ids) for _ in range(args.concurrent)]

    def one(numbered):
        n, run_id = numbered
        try:
            totals.append(app_stream(replicas[n % len(replicas)].url, cookie, run_id,
                                     queue=lambda: bus.enqueue(run_id)))
        except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
            errors.append(f"{type(exc).__name__}: {exc}")

    started = time.perf_counter()
    with ThreadPoolExecutor(len(burst)) as pool:
        list(pool.map(one, enumerate(burst)))
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()

    print(f"\nPlan stream bench: {args.runs} sequential runs, then {len(burst)} concurrent; {len(replicas)} replicas "
          f"on PostgreSQL + Redis, each gunicorn gthread {args.workers} workers x {args.threads} threads, "
          f"{args.plan_workers} plan workers per process; planner --delay-ms {args.delay_ms}\n")
    print(f"{'latency (ms), from queuing the run':44} {'p50':>8} {'p95':>8} {'mean':>8}")
    rows = [("planner time to first token (baseline)", baseline),
            ("app SSE: time to first byte", first_bytes),
            ("app SSE: time to first plan event", first_plans),
            ("overhead: first plan event - planner TTFT", overheads)]
    for label, values in rows:
        print(f"{label:44} {ms(pct(values, 50))} {ms(pct(values, 95))} {ms(statistics.mean(values))}")
    print(f"\nratio to the baseline (first plan event / planner TTFT): p50 "
          f"{pct(first_plans, 50) / pct(baseline, 50):.2f}x, p95 {pct(first_plans, 95) / pct(baseline, 95):.2f}x")
    if totals:
        print(f"\n{len(burst)} concurrent streams: {len(totals)} finished, {len(errors)} errors, wall {wall:.2f} s; "
              f"first plan event p50 {pct([t[1] for t in totals], 50):.2f} s / p95 {pct([t[1] for t in totals], 95):.2f} s; "
              f"whole plan p50 {pct([t[2] for t in totals], 50):.2f} s / p95 {pct([t[2] for t in totals], 95):.2f} s")
    else:
        print(f"\n{len(burst)} concurrent streams: all failed")
    for n in range(len(replicas)):
        print(f"replica {n} RSS (master + {len(gunicorn_pids(replicas[n])) - 1} workers): idle {idle[n] / 1024:.1f} MiB, "
              f"during the burst max {max(samples[n], default=0) / 1024:.1f} MiB")
    for error in errors[:10]:
        print("  error:", error)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
