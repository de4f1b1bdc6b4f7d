"""Every way a plan can fail: the model server, the grants, the finding, the browser."""

import html
import time
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import PlanRun, utcnow
from tests.plans.plan_helpers import (ALL_KINDS, generate, generate_and_stream, get_run, in_other_thread,
                                      latest_run, parse_events, run_id_of, stream_url)
from tests.support.child_process import free_port
from tests.support.lab_kube import RESULTS, result_body

HX = {"HX-Request": "true"}


@pytest.mark.parametrize("marker, message", [
    ("[[planner:fail=500]]", "failed with HTTP 500"),
    ("[[planner:fail=503]]", "failed with HTTP 503"),
    ("[[planner:fail=401]]", "rejected the API key (HTTP 401)"),
    ("[[planner:fail=404]]", "has no model named 'codex-offline-planner' (HTTP 404)"),
    ("[[planner:fail=429]]", "is rate limiting requests (HTTP 429)"),
    ("[[planner:cut_after=6]]", "the partial plan is kept"),
])
def test_model_failures_end_the_stream_with_a_clear_message(app, world, dev, marker, message):
    run_id, events = generate_and_stream(dev, world["results"]["a"], context=marker)
    assert events[-1].name == "done" and message in html.unescape(events[-1].data)
    assert 'role="alert"' in events[-1].data
    run = get_run(app, run_id)
    assert run.status == "failed" and message in run.error_message
    page = html.unescape(dev.get(f"/plans/runs/{run_id}").get_data(as_text=True))
    assert f'<p class="form-error" role="status">{run.error_message}</p>' in page  # shown as an error
    if "cut_after" in marker:
        assert run.output_text and events[-2].name == "plan" and events[-2].data


@pytest.mark.plan_config(CODEX_LLM_BASE_URL=f"http://127.0.0.1:{free_port()}/v1")
def test_model_server_down(app, world, dev):
    run_id, events = generate_and_stream(dev, world["results"]["a"])
    assert "connection refused" in events[-1].data
    assert get_run(app, run_id).status == "failed"


@pytest.mark.plan_config(CODEX_LLM_MODEL="no-such-model")
def test_unknown_model(app, world, dev):
    run_id, events = generate_and_stream(dev, world["results"]["a"])
    assert "has no model named 'no-such-model'" in html.unescape(events[-1].data)
    assert "has no model named" in get_run(app, run_id).error_message


def test_namespace_revoked_between_dialog_and_generate(app, world, dev, revoke):
    assert dev.get(f"/plans/dialog?result={world['results']['a']}&mode=remediation",
                   headers=HX).status_code == 200
    revoke(dev.user_id, world["ns_a"])
    response = generate(dev, world["results"]["a"])
    # Exactly the answer a missing finding gets, and nothing is stored (no existence oracle).
    assert response.status_code == 404
    assert "This finding is not available" in response.get_data(as_text=True)
    assert latest_run(app) is None


def test_namespace_revoked_while_the_plan_is_generating(app, world, dev, revoke):
    url = stream_url(generate(dev, world["results"]["a"], context="[[planner:slow_ms=60]]"))
    revoke(dev.user_id, world["ns_a"])
    events = parse_events(dev.get(url).get_data(as_text=True))
    assert events[-1].name == "done" and "revoked" in events[-1].data
    assert "kubectl" not in events[0].data  # nothing of what the worker wrote is shown
    time.sleep(1.5)  # the worker sees the stop within a second, and must not write its text back
    run = get_run(app, run_id_of(url))
    assert run.status == "failed" and run.output_text == ""
    assert dev.get(url).status_code == 404  # and afterwards it is history the user may not see


def test_a_plan_finished_before_the_revoke_is_not_shown_after_it(app, world, dev, revoke):
    run_id, _ = generate_and_stream(dev, world["results"]["a"])
    revoke(dev.user_id, world["ns_a"])
    assert dev.get(f"/plans/runs/{run_id}/stream").status_code == 404


def test_finding_that_disappeared(app, world, dev, kube):
    name = f"{world['prefix']}-vanishing"
    kube.create(RESULTS, result_body(name, "Pod", f"{world['ns_a']}/api-0", "about to vanish"))
    assert dev.get(f"/plans/dialog?result={name}&mode=remediation", headers=HX).status_code == 200
    kube.delete(f"{RESULTS}/{name}")
    response = generate(dev, name)
    assert response.status_code == 404
    assert "K8sGPT no longer reports it" in response.get_data(as_text=True)
    assert latest_run(app) is None
    dialog = dev.get(f"/plans/dialog?result={name}&mode=remediation", headers=HX)
    assert dialog.status_code == 404 and "K8sGPT no longer reports it" in dialog.get_data(as_text=True)
    assert "<dialog" in dialog.get_data(as_text=True)  # shown in a dialog, not swallowed


def test_a_browser_that_disconnects_leaves_the_plan_to_be_finished(app, world, dev):
    """The plan is a job: closing the tab ends the following, not the plan; reopening shows it whole."""
    url = stream_url(generate(dev, world["results"]["a"], context="[[planner:slow_ms=20]]"))
    response = dev.get(url, buffered=False)
    chunks = iter(response.response)
    received = ""
    while "event: plan" not in received:
        received += next(chunks).decode()
    response.close()  # what the server sees when the browser goes away
    run_id = run_id_of(url)
    deadline = time.monotonic() + 30
    while get_run(app, run_id).status == "streaming" and time.monotonic() < deadline:
        time.sleep(0.2)
    run = get_run(app, run_id)
    assert run.status == "done" and run.error_message is None and "kubectl" in run.output_text
    events = parse_events(dev.get(url).get_data(as_text=True))  # a second window, afterwards
    assert [e.name for e in events][-2:] == ["plan", "done"]


def test_runs_left_streaming_by_a_crash_are_marked_interrupted(app, world, dev):
    with app.app_context():
        stale = PlanRun(user_id=dev.user_id, result_name=world["results"]["a"], finding_kind="Pod",
                        finding_namespace=world["ns_a"], finding_name="api-0", mode="remediation",
                        status="streaming", created_at=utcnow() - timedelta(hours=2))
        fresh = PlanRun(user_id=dev.user_id, result_name=world["results"]["a"], finding_kind="Pod",
                        finding_namespace=world["ns_a"], finding_name="api-0", mode="remediation",
                        status="streaming", created_at=utcnow())
        db.session.add_all([stale, fresh])
        db.session.commit()
        stale_id, fresh_id = stale.id, fresh.id
    app.extensions.pop("codex_plan_swept", None)  # as if the process had just started
    dev.get("/plans/history", query_string={"kind": "Pod", "namespace": world["ns_a"], "name": "api-0"})
    assert get_run(app, stale_id).status == "interrupted"
    assert "interrupted" in get_run(app, stale_id).error_message
    assert get_run(app, fresh_id).status == "streaming"


def test_stop_ends_generation(app, world, dev):
    url = stream_url(generate(dev, world["results"]["a"], context="[[planner:slow_ms=30]]"))
    run_id = run_id_of(url)
    response = dev.get(url, buffered=False)
    chunks = iter(response.response)
    received = ""
    while "event: plan" not in received:
        received += next(chunks).decode()
    stop = in_other_thread(lambda: dev.submit(f"/plans/runs/{run_id}/stop", htmx=True))
    assert stop.status_code == 200 and "Stopping" in stop.get_data(as_text=True)
    for chunk in chunks:
        received += chunk.decode()
    response.close()
    events = parse_events(received)
    assert events[-1].name == "done" and "Stopped" in events[-1].data
    run = get_run(app, run_id)
    assert run.status == "stopped" and run.error_message == "Stopped by the user."
    full_run_id, _ = generate_and_stream(dev, world["results"]["a"])
    assert len(run.output_text) < len(get_run(app, full_run_id).output_text)


@pytest.mark.plan_config(CODEX_PLAN_WORKERS=0)  # no worker takes it: the run waits in the queue
def test_stop_before_a_worker_starts_it(app, world, dev):
    url = stream_url(generate(dev, world["results"]["a"]))
    run_id = run_id_of(url)
    assert dev.submit(f"/plans/runs/{run_id}/stop", htmx=True).status_code == 200
    assert get_run(app, run_id).status == "stopped"
    events = parse_events(dev.get(url).get_data(as_text=True))
    assert [e.name for e in events] == ["plan", "done"] and "Stopped" in events[-1].data
    page = dev.get(f"/plans/runs/{run_id}").get_data(as_text=True)
    assert '<p class="muted" role="status">Stopped before the plan started.</p>' in page  # not an error


def test_stop_is_for_the_owner_only(app, world, dev, make_user, login):
    url = stream_url(generate(dev, world["results"]["a"]))
    make_user("mate", {world["ns_a"]: ALL_KINDS})
    mate = login("mate")
    assert mate.submit(f"/plans/runs/{run_id_of(url)}/stop", htmx=True).status_code == 404
    assert get_run(app, run_id_of(url)).stop_requested is False


@pytest.mark.plan_config(CODEX_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
def test_generate_while_the_job_queue_is_down_says_so_and_holds_no_slot(app, world, dev):
    response = generate(dev, world["results"]["a"])
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "could not be queued" in response.get_data(as_text=True)
    run = latest_run(app)
    assert run.status == "failed" and "could not be queued" in run.error_message  # not left "generating"
