"""Benchmark the plan stream: the SSE endpoint's latency over the model's, and 50 streams at once.

Starts the offline planner and the app under gunicorn (gthread workers) on free loopback ports,
with their own SQLite file. Plan runs are seeded straight into the database with a realistic
prompt (a crash-looping pod: finding, object YAML, events, logs), so the bench needs no cluster:
the stream endpoint reads only the database and the model server. Then:

1. Latency, --runs times (default 50), interleaved so both see the same machine load:
   - the planner's own time to first token (a streamed chat completion sent straight to it with
     the same messages, timed to the first chunk carrying text);
   - at the app's SSE endpoint, time to the first streamed byte and to the first ``plan`` event
     (the first rendered text). Both connections are closed once timed (the app records the run
     as stopped by the browser), so the phase takes seconds, not minutes.
   The overhead is app minus planner, per pair; p50/p95 of each, and the ratio to the baseline.
2. Load: --concurrent streams (default 50) opened at once, each read to ``done``; errors counted
   (anything but a 200 ending in a successful ``done``); the app's RSS (gunicorn master + workers,
   from /proc) sampled every 50 ms before and during the burst.

    .venv/bin/python -m bench.plan_stream_bench [--runs 50] [--concurrent 50] [--workers 2]
        [--threads 32] [--delay-ms 15]
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

from tests.support.app_server import AppServer
from tests.support.http_session import HttpSession
from tests.support.lab_kube import write_unreachable_kubeconfig
from tests.support.planner_process import PlannerProcess
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


def app_stream(app_url, cookie, run_id, to_the_end=True):
    """(first byte, first plan event, total) seconds for one SSE stream read to its done event.

    With to_the_end False the connection is closed after the first plan event, like a browser
    closing the dialog (the app then marks the run stopped).
    """
    parts = urlsplit(app_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    started = time.perf_counter()
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
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--delay-ms", type=int, default=15, help="the planner's pause between chunks")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.concurrent < 1:
        parser.error("--runs and --concurrent must be positive")

    workdir = Path(tempfile.mkdtemp(prefix="codex-plan-bench-"))
    kubeconfig = write_unreachable_kubeconfig(workdir / "no-cluster.kubeconfig")
    messages = sample_messages()
    with PlannerProcess("--delay-ms", str(args.delay_ms)) as planner:
        app = AppServer(kubeconfig=kubeconfig, llm_base_url=planner.base_url, workers=args.workers,
                        threads=args.threads, access_log=False, workdir=workdir / "app")
        app.prepare_database()
        run_ids = seed(app, args.runs + args.concurrent + 2)
        with app:
            cookie = login_cookie(app)
            # Warm-up: the first stream pays for imports and connection pools in each worker.
            for run_id in run_ids[:2]:
                app_stream(app.url, cookie, run_id)
            planner_ttft(planner.base_url, "codex-offline-planner", messages)

            baseline, first_bytes, first_plans, overheads = [], [], [], []
            for run_id in run_ids[2:2 + args.runs]:
                base = planner_ttft(planner.base_url, "codex-offline-planner", messages)
                first_byte, first_plan, _ = app_stream(app.url, cookie, run_id, to_the_end=False)
                baseline.append(base)
                first_bytes.append(first_byte)
                first_plans.append(first_plan)
                overheads.append(first_plan - base)

            pids = gunicorn_pids(app)
            idle_rss = rss_kib(pids)
            samples, stop = [], threading.Event()

            def sample():
                while not stop.is_set():
                    samples.append(rss_kib(gunicorn_pids(app)))
                    time.sleep(0.05)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            errors, totals = [], []
            burst = run_ids[2 + args.runs:]

            def one(run_id):
                try:
                    totals.append(app_stream(app.url, cookie, run_id))
                except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
                    errors.append(f"{type(exc).__name__}: {exc}")

            started = time.perf_counter()
            with ThreadPoolExecutor(len(burst)) as pool:
                list(pool.map(one, burst))
            wall = time.perf_counter() - started
            stop.set()
            sampler.join()

    print(f"\nPlan stream bench: {args.runs} sequential runs, then {len(burst)} concurrent; gunicorn gthread "
          f"{args.workers} workers x {args.threads} threads; planner --delay-ms {args.delay_ms}; SQLite\n")
    print(f"{'latency (ms)':44} {'p50':>8} {'p95':>8} {'mean':>8}")
    rows = [("planner time to first token (baseline)", baseline),
            ("app SSE: time to first byte", first_bytes),
            ("app SSE: time to first plan event", first_plans),
            ("overhead: first plan event - planner TTFT", overheads)]
    for label, values in rows:
        print(f"{label:44} {ms(pct(values, 50))} {ms(pct(values, 95))} {ms(statistics.mean(values))}")
    print(f"\nratio to the baseline (first plan event / planner TTFT): p50 "
          f"{pct(first_plans, 50) / pct(baseline, 50):.2f}x, p95 {pct(first_plans, 95) / pct(baseline, 95):.2f}x")
    print(f"\n{len(burst)} concurrent streams: {len(totals)} finished, {len(errors)} errors, wall {wall:.2f} s, "
          f"per stream p50 {pct([t[2] for t in totals], 50):.2f} s / p95 {pct([t[2] for t in totals], 95):.2f} s"
          if totals else f"\n{len(burst)} concurrent streams: all failed")
    print(f"app RSS (master + {len(pids) - 1} workers): idle {idle_rss / 1024:.1f} MiB, during the burst "
          f"max {max(samples, default=0) / 1024:.1f} MiB, mean {statistics.mean(samples or [0]) / 1024:.1f} MiB "
          f"({len(samples)} samples)")
    for error in errors[:10]:
        print("  error:", error)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
