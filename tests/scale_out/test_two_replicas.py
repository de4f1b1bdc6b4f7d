"""Two replicas of the app (gunicorn on two ports) sharing one PostgreSQL and one Redis, against the
lab and the offline planner: a plan started on one is followed on the other; Stop works from either;
a reconnect with Last-Event-ID resumes on the other replica with only what it missed; the replica
whose worker writes a plan is killed mid-plan and the other marks the run interrupted within a bound;
twenty parallel Generates of one user across both accept exactly the configured number; a replica
stopped as in a rolling restart finishes its plan while its followers move to the other; the API
server restarted is shown meanwhile and the Result watch comes back."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from tests.support.app_server import AppServer
from tests.support.child_process import REPO
from tests.support.http_session import HTTP_TIMEOUT, HttpSession
from tests.support.lab_kube import APP_KUBECONFIG, RESULTS, result_body
from tests.support.lab_namespaces import lab_namespaces
from tests.support.planner_process import PlannerProcess

LABEL = {"codex-test": "scale-out"}
PASSWORD = "two replicas, one truth"
LEASE = 2  # seconds: a dead worker's run is reaped after about two of these
MAX_CONCURRENT = 3
SLOW = "[[planner:slow_ms=60]]"


@pytest.fixture(scope="module")
def planner_server():
    with PlannerProcess("--delay-ms", "5") as process:
        yield process


@pytest.fixture(scope="module")
def shared(postgres_server, redis_server):
    """One database and one Redis for both replicas, and the settings that make them one app."""
    name = postgres_server.new_database_name()
    postgres_server.execute(f"CREATE DATABASE {name}")
    with redis_server.client() as client:
        client.flushdb()
    yield {"CODEX_DATABASE_URL": postgres_server.url(name), "CODEX_REDIS_URL": redis_server.url(),
           "CODEX_SECRET_KEY": secrets.token_hex(32), "CODEX_PLAN_LEASE_SECONDS": str(LEASE),
           "CODEX_PLAN_MAX_CONCURRENT": str(MAX_CONCURRENT), "CODEX_PLAN_MAX_PER_MINUTE": "500"}
    postgres_server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _replica(shared, planner_server, tmp_path_factory, label):
    # A graceful timeout of 15 s: a stopped replica drains its plans for 13 (CODEX_PLAN_DRAIN_SECONDS).
    return AppServer(kubeconfig=APP_KUBECONFIG, llm_base_url=planner_server.base_url, extra_env=shared,
                     workdir=tmp_path_factory.mktemp(f"replica-{label}"), graceful_timeout=15)


@pytest.fixture(scope="module")
def world(kube, shared, planner_server, tmp_path_factory):
    """Replicas A and B, a test-made namespace with a pod, K8sGPT's Result about it, and a developer
    who may see it; the replicas are started once and may be restarted by a test."""
    ns = f"codex-scale-{uuid.uuid4().hex[:6]}"
    a = _replica(shared, planner_server, tmp_path_factory, "a")
    b = _replica(shared, planner_server, tmp_path_factory, "b")
    with lab_namespaces(kube, (ns,), LABEL):
        kube.create(f"/api/v1/namespaces/{ns}/pods", {"metadata": {"name": "api-0", "labels": LABEL}, "spec": {
            "automountServiceAccountToken": False, "containers": [{"name": "api", "image": "registry.example/api:1"}]}})
        result = f"{ns}-api-0"
        kube.create(RESULTS, result_body(result, "Pod", f"{ns}/api-0", "back-off restarting failed container",
                                         labels=LABEL))
        with a, b:
            with a.in_process_app():
                from tests.support.users import add_user

                username = f"dev-{uuid.uuid4().hex[:6]}"
                add_user(username, id=int(uuid.uuid4().int % 1_000_000_000) + 100_000, password=PASSWORD,
                         grants={ns: {"pods", "events"}}, sync=True)
            yield {"a": a, "b": b, "ns": ns, "result": result, "username": username}


def _session(replica) -> HttpSession:
    return HttpSession(replica.url)


def _signed_in(world, replica) -> HttpSession:
    """A new session on `replica` carrying the developer's one sign-in (sign-in attempts are limited
    per account, and the replicas share the count in Redis)."""
    if "cookies" not in world:
        world["cookies"] = _session(replica).sign_in(world["username"], PASSWORD).http.cookies
    session = _session(replica)
    session.http.cookies.update(world["cookies"])
    return session


def _generate(session: HttpSession, world, context=SLOW):
    """POST Generate as htmx does; (status, run id or None)."""
    response = session.post("/plans/runs", {"result": world["result"], "mode": "remediation", "context": context},
                             headers={"HX-Request": "true"})
    match = re.search(r"/plans/runs/(\d+)/stream", response.text)
    return response.status_code, int(match.group(1)) if match else None


def _events(raw: str) -> list[tuple[str | None, str, str]]:
    found = []
    for block in raw.split("\n\n"):
        fields = dict(re.findall(r"^(id|event): (.*)$", block, re.M))
        if "event" in fields:
            found.append((fields.get("id"), fields["event"], "\n".join(re.findall(r"^data: (.*)$", block, re.M))))
    return found


def _read(session: HttpSession, run_id: int, last_event_id: str | None = None, until=None, timeout=60):
    """Read a run's SSE stream (until `until(events)` holds, or to its end)."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    raw, deadline = "", time.monotonic() + timeout
    with session.http.get(session.url(f"/plans/runs/{run_id}/stream"), headers=headers, stream=True,
                          timeout=HTTP_TIMEOUT) as response:
        assert response.status_code == 200, response.text[:300]
        for chunk in response.iter_content(chunk_size=None, decode_unicode=True):
            raw += chunk
            events = _events(raw)
            if (until and until(events)) or (events and events[-1][1] == "done"):
                return events
            assert time.monotonic() < deadline, f"run {run_id}: no end after {timeout}s"
    return _events(raw)


def _status(session: HttpSession, run_id: int) -> str:
    page = session.http.get(session.url(f"/plans/runs/{run_id}"), timeout=HTTP_TIMEOUT).text
    return re.search(r'class="badge status-(\w+)"', page).group(1)


def _wait_status(session, run_id, want, timeout):
    deadline = time.monotonic() + timeout
    while (status := _status(session, run_id)) not in want:
        assert time.monotonic() < deadline, f"run {run_id} is still {status} after {timeout}s"
        time.sleep(0.5)
    return status


def test_a_plan_started_on_one_replica_is_followed_on_the_other(world):
    on_a, on_b = _signed_in(world, world["a"]), _signed_in(world, world["b"])
    status, run_id = _generate(on_a, world)
    assert status == 200, status
    events = _read(on_b, run_id)
    plans = [e for e in events if e[1] == "plan"]
    assert len(plans) > 2 and events[-1][1] == "done" and "kubectl" in plans[-1][2]
    assert _status(on_a, run_id) == "done"
    second_tab = _read(on_a, run_id)  # another tab, afterwards, on the first replica
    assert second_tab[-2][2] == plans[-1][2]


def test_a_reconnect_to_the_other_replica_gets_only_what_it_missed(world):
    on_a, on_b = _signed_in(world, world["a"]), _signed_in(world, world["b"])
    _, run_id = _generate(on_a, world)
    first = _read(on_a, run_id, until=lambda events: sum(e[1] == "plan" for e in events) >= 3)
    last_id = [e for e in first if e[1] == "plan"][-1][0]
    assert last_id
    rest = _read(on_b, run_id, last_event_id=last_id)  # the connection dropped; the browser reconnects
    ids = [e[0] for e in rest if e[1] == "plan"]
    assert ids and last_id not in ids and len(set(ids)) == len(ids) and rest[-1][1] == "done"
    assert "kubectl" in rest[-2][2]


def test_stop_from_either_replica_stops_the_plan(world):
    on_a, on_b = _signed_in(world, world["a"]), _signed_in(world, world["b"])
    _, run_id = _generate(on_a, world, context="[[planner:slow_ms=150]]")
    _read(on_a, run_id, until=lambda events: any(e[1] == "plan" for e in events))
    stopped = on_b.post(f"/plans/runs/{run_id}/stop", {}, headers={"HX-Request": "true"})
    assert stopped.status_code == 200 and "Stopping" in stopped.text
    assert _wait_status(on_a, run_id, {"stopped", "done"}, timeout=15) == "stopped"


def _worker_replica(world, run_id):
    """The replica whose worker holds the run's lease."""
    client = redis.Redis.from_url(world["a"].env["CODEX_REDIS_URL"], decode_responses=True)
    deadline = time.monotonic() + 15
    while not (holder := client.get(f"codex:plans:lease:{run_id}")):
        assert time.monotonic() < deadline, "no worker took the run"
        time.sleep(0.1)
    pid = int(holder.split(":")[1])
    with open(f"/proc/{pid}/status") as status:
        parent = int(re.search(r"^PPid:\s+(\d+)", status.read(), re.M).group(1))
    return next(r for r in (world["a"], world["b"]) if r.process.pid in (pid, parent))


def test_killing_the_replica_that_writes_a_plan_interrupts_it_within_a_bound(world):
    on_a = _signed_in(world, world["a"])
    _, run_id = _generate(on_a, world, context="[[planner:slow_ms=200]]")
    writer = _worker_replica(world, run_id)
    other = world["b"] if writer is world["a"] else world["a"]
    deadline = time.monotonic() + 20
    while "K8sGPT reported" not in on_a.http.get(on_a.url(f"/plans/runs/{run_id}"), timeout=HTTP_TIMEOUT).text:
        assert time.monotonic() < deadline, "no text was saved"  # saved every second while it grows
        time.sleep(0.3)
    os.killpg(writer.process.pid, signal.SIGKILL)  # the whole replica, workers and all, at once
    writer.process.wait(10)
    killed_at = time.monotonic()
    try:
        survivor = _signed_in(world, other)
        status = _wait_status(survivor, run_id, {"interrupted", "done"}, timeout=LEASE * 6)
        assert status == "interrupted", status
        assert time.monotonic() - killed_at <= LEASE * 6
        page = survivor.http.get(survivor.url(f"/plans/runs/{run_id}"), timeout=HTTP_TIMEOUT).text
        assert "The text so far is kept" in page and "K8sGPT reported" in page
    finally:
        writer.stop()
        writer.start()  # the next test finds both replicas up


def test_twenty_parallel_generates_across_both_replicas_accept_exactly_the_limit(world):
    sessions = [_signed_in(world, world["a" if n % 2 else "b"]) for n in range(20)]
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda s: _generate(s, world, context="[[planner:slow_ms=100]]"), sessions))
    accepted = [run_id for status, run_id in answers if status == 200]
    assert len(accepted) == MAX_CONCURRENT, [status for status, _ in answers]
    assert sorted(status for status, _ in answers) == [200] * MAX_CONCURRENT + [429] * (20 - MAX_CONCURRENT)
    for run_id in accepted:  # stop them, so the next test has the slots
        sessions[0].post(f"/plans/runs/{run_id}/stop", {}, headers={"HX-Request": "true"})
    for run_id in accepted:
        _wait_status(sessions[0], run_id, {"stopped", "done"}, timeout=15)


def _dashboard_stream(session: HttpSession):
    """The push stream the dashboard page connects to, opened as the page would (its URL from the page)."""
    page = session.http.get(session.url("/"), timeout=HTTP_TIMEOUT).text
    url = re.search(r'sse-connect="([^"]+)"', page).group(1).replace("&amp;", "&")
    response = session.http.get(session.url(url), stream=True, timeout=HTTP_TIMEOUT)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    return response


def test_a_result_written_in_the_lab_reaches_an_open_dashboard_on_each_replica(world, kube):
    streams = [_dashboard_stream(_signed_in(world, world[r])) for r in ("a", "b")]
    name = f"late-{uuid.uuid4().hex[:6]}"
    found: dict[int, float] = {}

    def read(number, response):
        raw = ""
        for chunk in response.iter_content(chunk_size=None, decode_unicode=True):
            raw += chunk
            if any(e[1] == "region" and name in e[2] for e in _events(raw)):
                found[number] = time.monotonic()
                return

    readers = [ThreadPoolExecutor(1).submit(read, n, s) for n, s in enumerate(streams)]
    written = time.monotonic()
    kube.create(RESULTS, result_body(f"{world['ns']}-{name}", "Pod", f"{world['ns']}/{name}",
                                     "the last termination reason is Error", labels=LABEL))
    try:
        for reader in readers:
            reader.result(timeout=20)
    finally:
        for response in streams:
            response.close()
    assert sorted(found) == [0, 1]
    assert all(at - written < 10 for at in found.values()), {n: round(at - written, 2) for n, at in found.items()}


def _stream_ids(events) -> list[tuple[int, int]]:
    """The Redis stream ids of the events that carry one, as comparable numbers."""
    return [tuple(int(part) for part in e[0].split("-")) for e in events if e[0]]


def test_a_replica_stopped_mid_plan_finishes_it_while_its_followers_move_on(world):
    """One step of a rolling restart: SIGTERM to the replica writing a plan. Its open stream ends at
    once (the browser reconnects, through the load balancer, to the other replica, with its
    Last-Event-ID, and gets exactly the rest); the stopped replica takes no new job but finishes the
    plan it writes before it exits, so the run ends done with all its text."""
    on_a = _signed_in(world, world["a"])
    _, run_id = _generate(on_a, world, context="[[planner:slow_ms=20]]")  # about 7 s of plan
    writer = _worker_replica(world, run_id)
    other = world["b"] if writer is world["a"] else world["a"]
    follower = _signed_in(world, writer)
    try:
        with ThreadPoolExecutor(1) as pool:
            reading = pool.submit(_read, follower, run_id, None, None, 60)
            time.sleep(1.5)
            os.killpg(writer.process.pid, signal.SIGTERM)
            before = reading.result(timeout=20)  # the stopped replica's stream ended, without the end
        assert before and before[-1][1] != "done" and any(e[1] == "plan" for e in before)
        last = [e for e in before if e[0]][-1][0]
        rest = _read(_signed_in(world, other), run_id, last_event_id=last)
        assert rest[-1][1] == "done" and "Plan finished" in rest[-1][2], rest[-1]
        assert all(number > _stream_ids(before)[-1] for number in _stream_ids(rest))  # only what it missed
        writer.process.wait(30)
        assert _wait_status(_signed_in(world, other), run_id, {"done", "interrupted"}, timeout=5) == "done"
    finally:
        writer.stop()
        writer.start()


def test_an_api_server_restart_is_shown_meanwhile_and_the_watch_comes_back(world, kube):
    """The lab's API server goes away for 6 s and comes back (its data kept): meanwhile a resource tab
    read as the user answers 503 in words and the dashboard says since when the cluster cannot be
    reached; afterwards a Result K8sGPT writes reaches an open dashboard (the watch listed again or
    resumed) and the banner is gone."""
    session = _signed_in(world, world["a"])
    outage = subprocess.Popen([str(REPO / "scripts" / "lab"), "restart", "kube-apiserver", "--down", "6"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while (tab := session.http.get(session.url(f"/resources/pods?ns={world['ns']}"),
                                       timeout=HTTP_TIMEOUT)).status_code != 503:
            assert time.monotonic() < deadline, f"the pods tab still answers {tab.status_code} in the outage"
            time.sleep(0.3)
        assert "The cluster cannot be reached since" in tab.text and "Traceback" not in tab.text
        while "cannot be reached since" not in session.http.get(session.url("/"), timeout=HTTP_TIMEOUT).text:
            assert time.monotonic() < deadline, "the dashboard never said the cluster is unreachable"
            time.sleep(0.3)
    finally:
        output, _ = outage.communicate(timeout=90)
    assert outage.returncode == 0, output
    stream = _dashboard_stream(session)
    name = f"after-{uuid.uuid4().hex[:6]}"
    kube.create(RESULTS, result_body(f"{world['ns']}-{name}", "Pod", f"{world['ns']}/{name}",
                                     "the last termination reason is Error", labels=LABEL))
    raw, deadline = "", time.monotonic() + 30
    try:
        for chunk in stream.iter_content(chunk_size=None, decode_unicode=True):
            raw += chunk
            regions = [e[2] for e in _events(raw) if e[1] == "region"]
            if regions and name in regions[-1] and "cannot be reached since" not in regions[-1]:
                break
            assert time.monotonic() < deadline, "the new Result never reached the dashboard after the restart"
    finally:
        stream.close()
