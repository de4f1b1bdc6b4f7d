"""Benchmark the app under a realistic load: --users (default 200) simulated people browsing
dashboards, resource tabs and plans for --seconds (default 300) over --replicas (default 2) replicas.

Starts PostgreSQL and Redis (Debian's), the offline planner and the replicas under gunicorn (gthread
workers) sharing them, against the lab (the known-issue charts are installed when K8sGPT reports
nothing in team-a or team-b yet). Each user is granted team-a or team-b (pods, deployments,
replicasets, services, events; synced into the lab's RBAC, revoked at the end), signs in on its
replica and loops: the dashboard, a pause, a resource tab (pods or deployments), a pause, and now
and then (--plan-chance per loop) a plan: the dialog of a finding from its dashboard, Generate as
htmx posts it, then its SSE stream followed to the end. Pauses are --think seconds (uniform), so
the users behave like people, not a flood. The dashboard's push stream is not opened
(bench/dashboard_push_bench.py measures it).

Baseline, measured first in the same run: one user on the otherwise idle system doing the same
rounds (--baseline-rounds, a plan every fourth). Prints p50/p95 per page type both ways, then the
load's requests, 5xx, other errors, requests/s and plans generated/completed. Exits 1 on any 5xx.

    .venv/bin/python -m bench.load_bench [--seconds 300] [--users 200] [--replicas 2]
        [--workers 2] [--threads 64] [--think 1 3] [--plan-chance 0.05] [--baseline-rounds 20]
"""

from __future__ import annotations

import argparse
import html
import random
import re
import secrets
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import requests

from bench.plan_stream_bench import app_stream, pct
from tests.browser.browser_helpers import namespace_of, wait_for_team_findings
from tests.support.app_server import AppServer
from tests.support.http_session import HttpSession
from tests.support.lab_control import run_lab
from tests.support.lab_kube import APP_KUBECONFIG, Kube
from tests.support.planner_process import PlannerProcess
from tests.support.postgres_server import PostgresServer
from tests.support.redis_server import RedisServer
from tests.support.users import lab_users

PASSWORD = "bench-password-" + secrets.token_hex(4)
TEAMS = ("team-a", "team-b")
KINDS = {"pods", "deployments", "replicasets", "services", "events"}
TABS = ("pods", "deployments")
PAGE_TIMEOUT = 60
PLAN_LINK = re.compile(r'href="(/plans/dialog\?[^"]+)"')
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
STREAM_URL = re.compile(r"/plans/runs/(\d+)/stream")
ALERT = re.compile(r'<(\w+)[^>]*role="alert"(?![^>]*hidden)[^>]*>(.*?)</\1>', re.S)
ROWS = ("dashboard", "resources: pods", "resources: deployments", "plan dialog", "Generate (POST /plans/runs)",
        "plan: first event after Generate", "plan: whole plan after Generate")


class Tally:
    """What one phase saw, shared by its users' threads: times per page type, requests, failures."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times = defaultdict(list)
        self.requests = 0
        self.server_errors, self.errors = [], []
        self.generated = self.completed = self.no_finding = 0

    def count(self, label, status=None, seconds=None, problem=None):
        at = time.strftime("%H:%M:%S", time.gmtime())  # to find it in the app logs
        with self.lock:
            self.requests += 1
            if status is not None and status >= 500:
                self.server_errors.append(f"{at} {label}: {problem or f'HTTP {status}'}")
            elif problem:
                self.errors.append(f"{at} {label}: {problem}")
            elif seconds is not None:
                self.times[label].append(seconds)

    def error(self, problem):
        """A failure that is not an HTTP status (the request, if any, was counted already)."""
        with self.lock:
            self.errors.append(f"{time.strftime('%H:%M:%S', time.gmtime())} {problem}")


def said(response):
    """Where a response redirects to, else its page's first alert (or its start), shortened."""
    if response.headers.get("Location"):
        return "-> " + response.headers["Location"]
    alert = ALERT.search(response.text)
    return " ".join(re.sub(r"<[^>]*>", " ", alert.group(2) if alert else response.text).split())[:200]


class SimUser:
    """One signed-in person on one replica, with their own connection and pauses."""

    def __init__(self, username, replica, think, seed):
        self.username, self.base = username, replica.url
        self.think_range, self.rng = think, random.Random(seed)
        self.http = None

    def sign_in(self):
        self.http = HttpSession(self.base).sign_in(self.username, PASSWORD).http
        self.http.get(self.base + "/", timeout=PAGE_TIMEOUT)  # where the sign-in redirects a browser

    def think(self):
        time.sleep(self.rng.uniform(*self.think_range))

    def page(self, tally, label, path, headers=None, data=None):
        """One request, timed to its last byte; the response when it answered 200."""
        started = time.perf_counter()
        try:
            if data is None:
                response = self.http.get(self.base + path, headers=headers, timeout=PAGE_TIMEOUT,
                                         allow_redirects=False)
            else:
                response = self.http.post(self.base + path, data=data, headers=headers, timeout=PAGE_TIMEOUT,
                                          allow_redirects=False)
        except requests.RequestException as exc:
            tally.count(label, problem=f"{type(exc).__name__}: {exc}")
            return None
        seconds = time.perf_counter() - started
        if response.status_code != 200:
            tally.count(label, response.status_code, problem=f"HTTP {response.status_code} {path} {said(response)}")
            return None
        tally.count(label, seconds=seconds)
        return response

    def round(self, tally, tab, plan):
        """Dashboard, pause, a resource tab, pause; with `plan`, a plan followed to its end, pause."""
        dashboard = self.page(tally, "dashboard", "/")
        self.think()
        self.page(tally, f"resources: {tab}", f"/resources/{tab}")
        self.think()
        if plan and dashboard is not None:
            links = PLAN_LINK.findall(dashboard.text)
            if not links:
                with tally.lock:
                    tally.no_finding += 1
                return
            self.plan(tally, html.unescape(self.rng.choice(links)))
            self.think()

    def plan(self, tally, dialog_path):
        """Open a finding's plan dialog, press Generate (as htmx posts it) and follow the stream."""
        htmx = {"HX-Request": "true"}
        dialog = self.page(tally, "plan dialog", dialog_path, headers=htmx)
        if dialog is None:
            return
        token = CSRF_INPUT.search(dialog.text)
        if token is None:
            tally.error(f"plan dialog: no Generate form in {dialog_path}")
            return
        form = {**dict(parse_qsl(urlsplit(dialog_path).query)), "context": "", "csrf_token": token.group(1)}
        started = time.perf_counter()
        created = self.page(tally, "Generate (POST /plans/runs)", "/plans/runs", headers=htmx, data=form)
        if created is None:
            return
        generate = time.perf_counter() - started
        stream = STREAM_URL.search(created.text)
        if stream is None:
            tally.error(f"Generate: no stream in the answer: {created.text[:200]}")
            return
        with tally.lock:
            tally.generated += 1
        run_id = int(stream.group(1))
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        try:
            _, first_plan, total = app_stream(self.base, cookie, run_id)
        except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
            status = re.match(r"HTTP (\d{3})", str(exc))
            tally.count("plan stream", int(status.group(1)) if status else None,
                        problem=f"run {run_id}: {type(exc).__name__}: {exc}")
            return
        tally.count("plan stream")
        with tally.lock:
            tally.completed += 1
            tally.times["plan: first event after Generate"].append(generate + first_plan)
            tally.times["plan: whole plan after Generate"].append(generate + total)

    def load(self, tally, deadline, plan_chance):
        """Rounds until the deadline (a plan under way is followed to its end)."""
        time.sleep(self.rng.uniform(0, self.think_range[1]))  # people do not all arrive in the same second
        while time.monotonic() < deadline:
            try:
                self.round(tally, self.rng.choice(TABS), self.rng.random() < plan_chance)
            except Exception as exc:  # noqa: BLE001 - a page not as expected: counted, the user goes on
                tally.error(f"{self.username}: {type(exc).__name__}: {exc}")


def team_findings(kube):
    """K8sGPT's Results about team-a and team-b, installing the known-issue charts first if needed."""
    reported = {namespace_of(r) for r in kube.results()}
    if not set(TEAMS) <= reported:
        run_lab("issues", "install", timeout=600)
    return {ns: wait_for_team_findings(kube, ns) for ns in TEAMS}


def _error_kind(problem: str) -> str:
    """The kind of a client-side error, for counting: the innermost exception name it mentions."""
    names = re.findall(r"\b([A-Z]\w*(?:Error|Exception|Timeout|Reset\w*))\b", problem)
    return names[-1] if names else problem.split(":", 2)[-1].strip()[:60]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes per replica")
    parser.add_argument("--threads", type=int, default=64, help="gunicorn threads per process")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"),
                        help="seconds a user pauses between requests (uniform)")
    parser.add_argument("--plan-chance", type=float, default=0.05, help="chance a round ends with a plan")
    parser.add_argument("--baseline-rounds", type=int, default=20)
    parser.add_argument("--delay-ms", type=int, default=15, help="the planner's pause between chunks")
    args = parser.parse_args(argv)
    if args.users < 1 or args.replicas < 1 or args.seconds <= 0 or args.baseline_rounds < 1:
        parser.error("--users, --replicas, --seconds and --baseline-rounds must be positive")

    kube = Kube()
    findings = team_findings(kube)
    workdir = Path(tempfile.mkdtemp(prefix="codex-load-bench-"))
    postgres = PostgresServer().start()
    try:
        postgres.execute("CREATE DATABASE codex_load")
        with RedisServer() as redis_server, PlannerProcess("--delay-ms", str(args.delay_ms)) as planner:
            # Plan limits well above what these users can reach (one plan at a time each, a few per
            # minute), so every Generate is accepted; sign-in limits count failures (and attempts per
            # account), which one sign-in per user never reaches: left as they are.
            shared = {"CODEX_DATABASE_URL": postgres.url("codex_load"), "CODEX_REDIS_URL": redis_server.url(),
                      "CODEX_SECRET_KEY": secrets.token_hex(32),
                      "CODEX_PLAN_MAX_CONCURRENT": "100", "CODEX_PLAN_MAX_PER_MINUTE": "1000"}
            replicas = [AppServer(kubeconfig=APP_KUBECONFIG, llm_base_url=planner.base_url, workers=args.workers,
                                  threads=args.threads, access_log=False, extra_env=shared,
                                  workdir=workdir / f"app-{n}") for n in range(args.replicas)]
            replicas[0].prepare_database()
            with replicas[0].in_process_app() as app, lab_users(app, PASSWORD) as make_user:
                # Inside lab_users: whatever happens, the users' RoleBindings leave the lab again.
                try:
                    users = seed(args, make_user, replicas)
                    for replica in replicas:
                        replica.start()
                    try:
                        return measure(args, replicas, users, findings)
                    finally:
                        for replica in replicas:
                            replica.stop()
                except Exception:  # noqa: BLE001 - shown; the exit code says it failed
                    traceback.print_exc()
                    return 1
    finally:
        postgres.stop()
        kube.close()


def seed(args, make_user, replicas):
    """The users, each granted one team's namespace (RBAC synced in the lab), spread over the replicas."""
    def one(n):
        username = f"load-{n:03d}-{secrets.token_hex(2)}"
        make_user(username, grants={TEAMS[(n // len(replicas)) % len(TEAMS)]: KINDS})
        return SimUser(username, replicas[n % len(replicas)], args.think, seed=n)

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(args.users)))


def measure(args, replicas, users, findings):
    with ThreadPoolExecutor(4) as pool:  # scrypt on the server: a few at a time
        list(pool.map(SimUser.sign_in, users))

    first = users[0]
    first.round(Tally(), TABS[0], plan=True)  # warm-up: imports, pools, the plan workers
    baseline = Tally()
    for n in range(args.baseline_rounds):
        first.round(baseline, TABS[n % len(TABS)], plan=n % 4 == 0)

    load = Tally()
    started = time.monotonic()
    deadline = started + args.seconds
    threads = [threading.Thread(target=user.load, args=(load, deadline, args.plan_chance), daemon=True)
               for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started

    print(f"\nLoad bench: {args.users} users for {args.seconds:.0f} s over {len(replicas)} replicas "
          f"(gunicorn {args.workers} x {args.threads} threads each), PostgreSQL + Redis, the lab "
          f"({sum(map(len, findings.values()))} findings in {', '.join(TEAMS)}), offline planner "
          f"{args.delay_ms} ms between chunks; pauses {args.think[0]:g}-{args.think[1]:g} s, "
          f"a plan in {args.plan_chance:.0%} of rounds\n")
    print(f"{'page (ms, to the last byte)':36} {'baseline: 1 user, idle':>26}   {f'under load: {args.users} users':>26}   "
          f"{'p95 /':>7}")
    print(f"{'':36} {'n':>6} {'p50':>9} {'p95':>9}   {'n':>6} {'p50':>9} {'p95':>9}   {'base':>7}")
    for label in ROWS:
        base, loaded = baseline.times.get(label, []), load.times.get(label, [])
        cells = [f"{len(v):6d} {pct(v, 50) * 1000:9.1f} {pct(v, 95) * 1000:9.1f}" if v else f"{0:6d} {'-':>9} {'-':>9}"
                 for v in (base, loaded)]
        ratio = f"{pct(loaded, 95) / pct(base, 95):7.2f}" if base and loaded else f"{'-':>7}"
        print(f"{label:36} {cells[0]}   {cells[1]}   {ratio}")
    for name, tally, seconds in (("baseline", baseline, None), ("load", load, wall)):
        rate = f" ({tally.requests / seconds:.1f}/s over {seconds:.0f} s)" if seconds else ""
        print(f"\n{name}: {tally.requests} requests{rate}, 5xx {len(tally.server_errors)}, other errors "
              f"{len(tally.errors)}; plans generated {tally.generated}, completed {tally.completed}"
              + (f"; {tally.no_finding} rounds found no finding to plan" if tally.no_finding else ""))
        kinds = Counter(re.sub(r"^\S+ ", "", problem).split(":", 1)[0] + ": " + _error_kind(problem)
                        for problem in tally.errors)
        for kind, count in kinds.most_common():
            print(f"   {count} x {kind}")
        for problem in tally.server_errors[:10] + tally.errors[:5]:
            print("  ", problem)
    print("\napp logs:", ", ".join(str(r.log_path) for r in replicas))
    return 1 if baseline.server_errors or load.server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
