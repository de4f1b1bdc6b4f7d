"""Plans as jobs (app/plans/worker.py, app/plans/stream.py) with the real offline planner: a run is
written to its end with nobody following; it is followed from another replica and resumed by event
id; Stop reaches it from another replica; a run whose worker died is queued again (nothing streamed
yet) or marked interrupted with its text kept. "Replicas" are two apps on one database and one Redis;
the in-process bus runs the tests that make sense for one process."""

from __future__ import annotations

import re
import time

import pytest

from app.extensions import db
from app.findings import Finding
from app.models import PlanRun
from app.plans import plan_bus, runs, submit
from app.plans.core.vocabulary import PlanMode, RunStatus
from app.plans.stream import follow
from app.plans.worker import INTERRUPTED
from tests.support.apps import app_factory
from tests.support.users import add_user

LEASE = 0.5
SLOW = "[[planner:slow_ms=40]] The checkout pods restart."


def _replicas(request, redis: bool):
    database = request.getfixturevalue("tmp_path") / "codex.db"
    database.write_bytes(request.getfixturevalue("sqlite_template").read_bytes())
    return app_factory({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "CODEX_LLM_BASE_URL": request.getfixturevalue("planner").base_url,
        "CODEX_LLM_TIMEOUT": 20, "CODEX_PLAN_LEASE_SECONDS": LEASE,
        "CODEX_REDIS_URL": request.getfixturevalue("redis_url") if redis else None})


@pytest.fixture(params=["local", "redis"])
def replicas(request):
    """make() -> an app sharing one database (and, on the redis bus, one Redis) with the others made."""
    with _replicas(request, request.param == "redis") as make:
        yield make


@pytest.fixture
def redis_replicas(request):
    """The same, always on Redis: two apps are two replicas."""
    with _replicas(request, True) as make:
        yield make


def _run(app, text=SLOW, user="owner"):
    """A reserved run of a plain prompt (no cluster needed); its id."""
    with app.app_context():
        user_id = add_user(f"{user}-{time.monotonic_ns()}")
        run = runs.create_run(user_id, "team-a-web", Finding(kind="Pod", namespace="team-a", name="web"),
                              PlanMode.REMEDIATION, messages=[{"role": "user", "content": text}])
        return run.id


def _row(app, run_id) -> PlanRun:
    with app.app_context():
        run = db.session.get(PlanRun, run_id)
        db.session.expunge(run)
        return run


def _wait_for(app, run_id, want, timeout=30) -> PlanRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = _row(app, run_id)
        if want(run):
            return run
        time.sleep(0.1)
    pytest.fail(f"run {run_id} is {run.status} after {timeout}s: {run.error_message}")


def _follow(app, run_id, last_event_id=None) -> list[tuple[str | None, str, str]]:
    """Every SSE event a browser would get from `app`: (id, event, data)."""
    with app.test_request_context():
        body = "".join(follow(run_id, plan_bus(), None, last_event_id))
    events = []
    for block in body.split("\n\n"):
        fields = dict(re.findall(r"^(id|event): (.*)$", block, re.M))
        if "event" in fields:
            data = "\n".join(re.findall(r"^data: (.*)$", block, re.M))
            events.append((fields.get("id"), fields["event"], data))
    return events


def test_a_plan_is_written_to_its_end_with_nobody_following(replicas):
    app = replicas()
    run_id = _run(app)
    with app.test_request_context():
        submit(run_id)
    run = _wait_for(app, run_id, lambda r: r.status != RunStatus.STREAMING)
    assert run.status == RunStatus.DONE, run.error_message
    assert "# Offline planner" in run.output_text and run.stream_opened_at and run.first_token_at
    events = _follow(app, run_id)  # followed afterwards: the whole plan, then done
    assert [e[1] for e in events][-2:] == ["plan", "done"] and "Offline planner" in events[-2][2]


def test_the_text_is_saved_while_it_grows(replicas):
    app = replicas()
    run_id = _run(app, "[[planner:slow_ms=60]] slow")
    with app.test_request_context():
        submit(run_id)
    partial = _wait_for(app, run_id, lambda r: r.output_text, timeout=20)
    assert partial.status == RunStatus.STREAMING  # saved before the end: a restart would keep it
    final = _wait_for(app, run_id, lambda r: r.status != RunStatus.STREAMING)
    assert final.output_text.startswith(partial.output_text)


def test_followed_from_another_replica_and_resumed_exactly_after_the_last_event(redis_replicas):
    a, b = redis_replicas(), redis_replicas()
    run_id = _run(a)
    with a.test_request_context():
        submit(run_id)
    events = _follow(b, run_id)  # B follows while A's worker writes
    plans = [e for e in events if e[1] == "plan"]
    assert len(plans) > 3 and events[-1][1] == "done" and all(e[0] for e in plans)
    with a.app_context():
        ids = [e.id for e in plan_bus().events(run_id, None, 0)]
    middle = plans[len(plans) // 2][0]
    resumed = _follow(a, run_id, last_event_id=middle)  # a reconnect, to the other replica
    # Only what came after it: each render's id is a later event, the last one the run's last; the
    # text it renders is the whole plan (its start rebuilt from the events up to Last-Event-ID).
    later = set(ids[ids.index(middle) + 1:])
    assert all(e[0] in later for e in resumed if e[1] == "plan") and resumed[-2][0] == ids[-1]
    assert resumed[-2][2] == plans[-1][2] and resumed[-1][1] == "done"
    assert _follow(a, run_id, last_event_id="1-0\nevent: done")[-2][2] == plans[-1][2]  # a bad id: from the start


def test_stop_from_another_replica_ends_the_run(redis_replicas):
    a, b = redis_replicas(), redis_replicas()
    run_id = _run(a, "[[planner:slow_ms=80]] slow")
    with a.test_request_context():
        submit(run_id)
    _wait_for(a, run_id, lambda r: r.output_text, timeout=20)
    with b.app_context():
        runs.request_stop(db.session.get(PlanRun, run_id), plan_bus())
    run = _wait_for(a, run_id, lambda r: r.status != RunStatus.STREAMING, timeout=10)
    assert run.status == RunStatus.STOPPED and run.error_message == "Stopped by the user."
    assert run.output_text  # what was written before Stop is kept


def _lost(app, run_id, text=""):
    """A worker takes the run and dies: no lease renewal, no end; `text` is what it had saved."""
    with app.app_context():
        bus = plan_bus()
        bus.enqueue(run_id)
        assert bus.take("a-worker-that-dies", timeout=1) == run_id
        runs.start_run(run_id)
        if text:
            runs.save_progress(run_id, text)


def test_a_run_lost_before_any_text_is_written_again(replicas):
    app = replicas()
    run_id = _run(app, "quick")
    _lost(app, run_id)
    with app.test_request_context():
        app.extensions["codex_plan_workers"].start()  # its reaper finds the run within two lease periods
    run = _wait_for(app, run_id, lambda r: r.status != RunStatus.STREAMING, timeout=15)
    assert run.status == RunStatus.DONE and "# Offline planner" in run.output_text


def test_a_run_lost_mid_plan_is_marked_interrupted_with_its_text_kept(replicas):
    app = replicas()
    run_id = _run(app, "quick")
    _lost(app, run_id, "## Diagnosis\n\nThe pod")
    with app.test_request_context():
        app.extensions["codex_plan_workers"].start()
    run = _wait_for(app, run_id, lambda r: r.status != RunStatus.STREAMING, timeout=15)
    assert run.status == RunStatus.INTERRUPTED and run.error_message == INTERRUPTED
    assert run.output_text == "## Diagnosis\n\nThe pod"
    events = _follow(app, run_id)  # a follower is told, not left waiting
    assert events[-1][1] == "done" and "interrupted" in events[-1][2]


@pytest.fixture
def local_replicas(request):
    """Apps on one database, each with its own in-process bus: several processes without Redis."""
    with _replicas(request, False) as make:
        yield make


def test_without_redis_another_process_follows_the_text_saved_every_second(local_replicas):
    a, b = local_replicas(), local_replicas()
    run_id = _run(a, "[[planner:slow_ms=60]] slow")
    with a.test_request_context():
        submit(run_id)
    events = _follow(b, run_id)  # B's bus never hears of it
    plans = [e for e in events if e[1] == "plan"]
    assert len(plans) >= 2 and events[-1][1] == "done"  # the growing text, then the whole
    assert len(plans[0][2]) < len(plans[-1][2]) and "Offline planner" in plans[-1][2]


def _reference_then_mid_plan(app) -> tuple[str, int]:
    """(the whole text of a slow plan written undisturbed, a run of the same prompt now mid-plan with
    text saved): a fault is made next, and the run must still end with exactly that text."""
    reference = _run(app, "[[planner:slow_ms=60]] slow")
    with app.test_request_context():
        submit(reference)
    expected = _wait_for(app, reference, lambda r: r.status != RunStatus.STREAMING).output_text
    run_id = _run(app, "[[planner:slow_ms=60]] slow")
    with app.test_request_context():
        submit(run_id)
    _wait_for(app, run_id, lambda r: r.output_text, timeout=20)
    return expected, run_id


def test_a_redis_restart_mid_plan_loses_nothing(request, tmp_path, sqlite_template, planner):
    """Redis restarts (empty) while a plan is written: the plan still ends with all its text, and a
    follower that was reading gets the end. The database is the record; the bus only carries it."""
    from tests.support.redis_server import RedisServer

    with RedisServer() as own_redis:
        database = tmp_path / "codex.db"
        database.write_bytes(sqlite_template.read_bytes())
        with app_factory({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "CODEX_LLM_BASE_URL": planner.base_url,
                          "CODEX_LLM_TIMEOUT": 20, "CODEX_PLAN_LEASE_SECONDS": LEASE,
                          "CODEX_REDIS_URL": own_redis.url()}) as make:
            app = make()
            expected, run_id = _reference_then_mid_plan(app)
            own_redis.restart()
            events = _follow(app, run_id)
            run = _wait_for(app, run_id, lambda r: r.status != RunStatus.STREAMING)
    assert run.status == RunStatus.DONE and run.output_text == expected
    assert events[-1][1] == "done" and "Plan finished" in events[-1][2]


def test_a_model_server_failing_mid_plan_ends_the_run_with_a_clear_message(replicas):
    """An error event after the 200 (what an overloaded server sends): failed, said in words, text kept."""
    app = replicas()
    run_id = _run(app, "[[planner:slow_ms=5,error_after=12]] overload me")
    with app.test_request_context():
        submit(run_id)
    run = _wait_for(app, run_id, lambda r: r.status != RunStatus.STREAMING)
    assert run.status == RunStatus.FAILED and "failed in the middle of the plan" in run.error_message
    assert "overloaded" in run.error_message and run.output_text  # what came before the error is kept
    events = _follow(app, run_id)
    assert events[-1][1] == "done" and "failed in the middle of the plan" in events[-1][2]


SILENT = "[[planner:stall_ms=15000]] say nothing for 15 s"  # the model answers nothing at all for 15 s


def test_stop_ends_a_plan_whose_model_sends_nothing(replicas):
    """Stop is looked for by the watchdog, not between chunks: a silent model does not delay it."""
    app = replicas()
    run_id = _run(app, SILENT)
    with app.test_request_context():
        submit(run_id)
    _wait_for(app, run_id, lambda r: r.stream_opened_at, timeout=10)  # a worker is waiting on the model
    with app.app_context():
        runs.request_stop(db.session.get(PlanRun, run_id), plan_bus())
    run = _wait_for(app, run_id, lambda r: r.status != RunStatus.STREAMING, timeout=5)  # well before 15 s
    assert run.status == RunStatus.STOPPED and run.error_message == "Stopped by the user."
    events = _follow(app, run_id)
    assert events[-1][1] == "done" and "Stopped" in events[-1][2]


def test_the_plan_timeout_ends_a_plan_whose_model_sends_nothing(replicas):
    app = replicas(CODEX_PLAN_TIMEOUT=1)
    run_id = _run(app, SILENT)
    with app.test_request_context():
        submit(run_id)
    run = _wait_for(app, run_id, lambda r: r.status != RunStatus.STREAMING, timeout=6)
    assert run.status == RunStatus.FAILED and "took longer than 1 s" in run.error_message


def test_a_run_queued_twice_is_written_once(replicas):
    app = replicas()
    run_id = _run(app, "[[planner:slow_ms=20]] twice")
    with app.test_request_context():
        submit(run_id)
        submit(run_id)  # e.g. a reaper on another replica and a retry raced
    run = _wait_for(app, run_id, lambda r: r.status != RunStatus.STREAMING)
    assert run.status == RunStatus.DONE
    with app.app_context():
        ends = [e for e in plan_bus().events(run_id, None, 0) if e.kind == "end"]
        texts = "".join(e.data for e in plan_bus().events(run_id, None, 0) if e.kind == "text")
    assert len(ends) == 1 and texts == run.output_text  # one writer: the events are the text once


def test_a_postgresql_restart_mid_plan_loses_nothing_and_pages_say_so_meanwhile(tmp_path, planner):
    """PostgreSQL goes away while a plan is written and comes back: the plan ends with all its text
    (the worker keeps it and retries its end); a page asked for meanwhile answers 503 in words,
    and the first request after the restart works (pooled connections are tested first)."""
    from tests.support.postgres_server import PostgresServer

    server = PostgresServer().start()
    try:
        server.execute("CREATE DATABASE codex")
        with app_factory({"SQLALCHEMY_DATABASE_URI": server.url("codex"), "CODEX_LLM_BASE_URL": planner.base_url,
                          "CODEX_LLM_TIMEOUT": 20, "CODEX_PLAN_LEASE_SECONDS": LEASE}) as make:
            app = make()
            expected, run_id = _reference_then_mid_plan(app)
            client, signed_in = app.test_client(), app.test_client()
            with app.app_context():
                add_user("signed-in", password="a password long enough")
            token = re.search(r'name="csrf-token" content="([^"]+)"',
                              client.get("/__csrf-token__").get_data(as_text=True)).group(1)
            signed_token = re.search(r'name="csrf-token" content="([^"]+)"',
                                     signed_in.get("/__csrf-token__").get_data(as_text=True)).group(1)
            assert signed_in.post("/login", data={"username": "signed-in", "password": "a password long enough",
                                                  "csrf_token": signed_token}).status_code == 303
            server.down()
            try:  # a sign-in reads the accounts table; a signed-in page loads its user
                pages = [client.post("/login", data={"username": "owner", "password": "x", "csrf_token": token}),
                         signed_in.get("/")]
                time.sleep(2)  # the worker writes on, unable to save
            finally:
                server.up()
            for page in pages:
                body = page.get_data(as_text=True)
                assert page.status_code == 503, (page.status_code, body[:300])
                assert "The database cannot be reached just now" in body and "Traceback" not in body
            run = _wait_for(app, run_id, lambda r: r.status != RunStatus.STREAMING, timeout=40)
            assert client.get("/login").status_code == 200
    finally:
        server.stop()
    assert run.status == RunStatus.DONE and run.output_text == expected


def test_runs_queued_in_a_process_that_stopped_are_written_after_its_restart(local_replicas):
    """Without Redis the queue lives in the process: a run queued when it stopped is queued again by
    the next process at its first request, and written."""
    before = local_replicas()
    run_id = _run(before)  # reserved and queued, but the process stopped before a worker took it
    after = local_replicas(CODEX_PLAN_WORKERS_AT_START=True)  # the restarted process, same database
    assert after.test_client().get("/login").status_code == 200
    run = _wait_for(after, run_id, lambda r: r.status != RunStatus.STREAMING, timeout=15)
    assert run.status == RunStatus.DONE and "# Offline planner" in run.output_text
