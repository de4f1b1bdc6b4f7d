"""The plan dialog, Generate, the SSE stream, prompts, history and rendering, on the real lab."""

import json

import pytest

from tests.plans.plan_helpers import (ALL_KINDS, PLANTED, PLANTED_TOKEN, generate, generate_and_stream, get_run,
                                      latest_run, parse_events, stream_url)
from tests.support.lab_kube import RESULTS, result_body

HX = {"HX-Request": "true"}


def dialog_url(result, mode="remediation"):
    return f"/plans/dialog?result={result}&mode={mode}"


def test_dialog_shows_the_finding_with_sensitive_values_masked(world, dev):
    response = dev.get(dialog_url(world["results"]["a"]), headers=HX)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<dialog" in text and "data-plan-dialog" in text and "<html" not in text
    assert f"{world['ns_a']}/api-0" in text and "Remediation plan" in text
    assert "YXBpLWRi" in text and "api-db-prod" not in text
    assert "At most 4,000 characters" in text and 'name="csrf_token"' in text
    assert "No plans for this finding yet." in text
    assert "HX-Request" in response.headers["Vary"]


def test_dialog_url_loaded_directly_is_a_full_page(world, dev):
    text = dev.get(dialog_url(world["results"]["a"], "root_cause")).get_data(as_text=True)
    assert "<html" in text and 'class="plan-page"' in text and "<dialog" not in text
    assert "Root-cause plan" in text


def test_dashboard_buttons_and_dialogs_name_the_plans_alike(world, dev):
    page = dev.get("/").get_data(as_text=True)
    assert "▶ Remediation plan" in page and "▶ Root-cause plan" in page
    assert "Root cause" not in page  # the button once said "Root cause", the dialog "Root-cause plan"
    for mode, title in (("remediation", "Remediation plan"), ("root_cause", "Root-cause plan")):
        dialog = dev.get(dialog_url(world["results"]["a"], mode), headers=HX).get_data(as_text=True)
        assert f"{title} · Pod {world['ns_a']}/api-0" in dialog


@pytest.mark.parametrize("query", ["result={b}&mode=remediation", "result={a}&mode=poem",
                                   "result=no-such-result&mode=remediation"])
def test_dialog_refuses_other_namespaces_unknown_modes_and_missing_findings(world, dev, query):
    url = "/plans/dialog?" + query.format(a=world["results"]["a"], b=world["results"]["b"])
    response = dev.get(url, headers=HX)
    assert response.status_code == 404
    assert world["ns_b"] not in response.get_data(as_text=True)


def test_prompt_carries_finding_user_and_live_context_but_no_secret(app, world, dev):
    run_id, events = generate_and_stream(dev, world["results"]["a"],
                                         context="We rolled out v2.3 ten minutes ago")
    run = get_run(app, run_id)
    prompt = run.prompt_text
    assert "We rolled out v2.3 ten minutes ago" in prompt  # the user's context
    assert f'"namespace": "{world["ns_a"]}"' in prompt and '"name": "api-0"' in prompt  # the finding
    assert "registry.example/api:2.3" in prompt  # the object's YAML, read as the user
    assert "Back-off restarting failed container api" in prompt  # its events
    assert "YXBpLWRi" in prompt and "api-db-prod" not in prompt  # K8sGPT's masked form
    for secret in (PLANTED, PLANTED_TOKEN):
        assert secret not in prompt and secret not in run.output_text
        assert all(secret not in event.data for event in events)
    assert world["ns_b"] not in prompt
    assert [m["role"] for m in json.loads(run.prompt_messages)] == ["system", "user"]


def test_plan_streams_in_order_and_ends_with_done(app, world, dev):
    # A little slower than the planner can: the stream follows a plan still being written.
    run_id, events = generate_and_stream(dev, world["results"]["a"], context="[[planner:slow_ms=10]]")
    names = [event.name for event in events]
    assert names[-1] == "done" and names.count("done") == 1
    assert set(names[:-1]) == {"plan"} and len(names) >= 3
    sizes = [len(event.data) for event in events[:-1]]
    assert sizes[0] < sizes[-1] == max(sizes)  # each event carries the whole plan so far
    run = get_run(app, run_id)
    assert run.status == "done" and run.error_message is None
    assert "Plan finished" in events[-1].data and f"/plans/runs/{run_id}" in events[-1].data
    assert "Act on this plan" in events[-1].data  # its kubectl steps open in the run view
    assert "api-0" in run.output_text and 'class="plan-command"' in events[-2].data
    assert "badge-read-only" in events[-2].data, events[-2].data
    assert run.prompt_tokens > 0 and run.completion_tokens > 0 and run.model == "codex-offline-planner"
    assert run.created_at <= run.stream_opened_at <= run.first_token_at <= run.finished_at


def test_model_output_with_html_renders_inert(app, world, dev):
    xss = "<script>alert('plan')</script><img src=x onerror=alert(1)>"
    run_id, events = generate_and_stream(dev, world["results"]["a"], context=xss)
    assert "<script>" in get_run(app, run_id).output_text  # the planner echoes the user's words
    for event in events:
        assert "<script" not in event.data and "<img" not in event.data
    assert "&lt;script&gt;" in events[-2].data
    page = dev.get(f"/plans/runs/{run_id}").get_data(as_text=True)
    assert "<script>alert" not in page and "onerror=alert(1)>" not in page


def test_generate_and_stop_require_csrf(app, world, dev):
    before = latest_run(app)
    response = dev.post("/plans/runs", data={"result": world["results"]["a"], "mode": "remediation"},
                        headers=HX)
    assert response.status_code == 400
    assert latest_run(app) is None or before is not None and latest_run(app).id == before.id
    response = generate(dev, world["results"]["a"])
    run_id = int(stream_url(response).split("/")[-2])
    assert dev.post(f"/plans/runs/{run_id}/stop", headers=HX).status_code == 400
    assert get_run(app, run_id).stop_requested is False


def test_context_over_the_limit_is_refused_next_to_the_field(app, world, dev):
    response = generate(dev, world["results"]["a"], context="x" * 4001)
    assert response.status_code == 422
    assert "4,001 characters long; the limit is 4,000" in response.get_data(as_text=True)
    page = generate(dev, world["results"]["a"], context="x" * 4001, htmx=False)
    assert page.status_code == 422 and "the limit is 4,000" in page.get_data(as_text=True)
    assert 'class="plan-page"' in page.get_data(as_text=True)


def test_generate_without_javascript_redirects_to_the_run(app, world, dev):
    response = generate(dev, world["results"]["a"], htmx=False)
    assert response.status_code == 303 and "/plans/runs/" in response.headers["Location"]
    page = dev.get(response.headers["Location"]).get_data(as_text=True)
    assert "sse-connect" in page and "<html" in page


def test_run_reopens_as_page_and_fragment_with_copy_text(app, world, dev):
    run_id, _ = generate_and_stream(dev, world["results"]["a"])
    page = dev.get(f"/plans/runs/{run_id}").get_data(as_text=True)
    fragment = dev.get(f"/plans/runs/{run_id}", headers=HX).get_data(as_text=True)
    assert "<html" in page and "<html" not in fragment
    for text in (page, fragment):
        assert f'data-copy-target="plan-text-{run_id}"' in text and "plan-command" in text
    again = parse_events(dev.get(f"/plans/runs/{run_id}/stream").get_data(as_text=True))
    assert [e.name for e in again] == ["plan", "done"]  # a reconnect replays, it does not re-run
    assert get_run(app, run_id).status == "done"


def test_history_follows_grants(app, world, dev, make_user, login, revoke):
    run_id, _ = generate_and_stream(dev, world["results"]["a"])
    history = f"/plans/history?kind=Pod&namespace={world['ns_a']}&name=api-0"
    mate_id = make_user("teammate", {world["ns_a"]: ALL_KINDS})
    mate = login("teammate")
    make_user("other-team", {world["ns_b"]: ALL_KINDS})
    other = login("other-team")
    assert mate.get(f"/plans/runs/{run_id}").status_code == 200
    assert f"/plans/runs/{run_id}" in mate.get(history).get_data(as_text=True)
    dialog = mate.get(dialog_url(world["results"]["a"]), headers=HX).get_data(as_text=True)
    assert f"/plans/runs/{run_id}" in dialog and "by dev" in dialog
    for url in (f"/plans/runs/{run_id}", history, f"/plans/runs/{run_id}/stream"):
        assert other.get(url).status_code == 404
    assert mate.get(f"/plans/runs/{run_id}/stream").status_code == 404  # only the owner streams
    revoke(mate_id, world["ns_a"])
    assert mate.get(f"/plans/runs/{run_id}").status_code == 404
    assert mate.get(history).status_code == 404


def test_owner_cannot_replay_a_finished_plan_after_revoke(app, world, dev, revoke):
    run_id, _ = generate_and_stream(dev, world["results"]["a"])
    revoke(dev.user_id, world["ns_a"])
    assert dev.get(f"/plans/runs/{run_id}/stream").status_code == 404
    assert dev.get(f"/plans/runs/{run_id}").status_code == 404


def test_a_cluster_scoped_finding_is_planned_and_kept_in_its_history(app, world, make_user, login, kube):
    name = f"{world['prefix']}-node"
    node = f"{world['prefix']}-node-1"
    kube.create(RESULTS, result_body(name, "Node", node, f"{node} has condition Ready=False"))
    try:
        make_user("root", admin=True)
        admin = login("root")
        dialog = admin.get(dialog_url(name), headers=HX).get_data(as_text=True)
        assert f"Remediation plan · Node {node}<" in dialog and "None/" not in dialog
        run_id, _ = generate_and_stream(admin, name)
        run = get_run(app, run_id)
        assert (run.finding_kind, run.finding_namespace, run.finding_name) == ("Node", "", node)
        assert f"Write the remediation plan for Node `{node}` now." in run.prompt_text
        assert '"namespace": ""' in run.prompt_text
        history = admin.get(dialog_url(name), headers=HX).get_data(as_text=True)
        assert "No plans for this finding yet." not in history and f"/plans/runs/{run_id}" in history
    finally:
        kube.delete(f"{RESULTS}/{name}")


def test_only_administrators_see_the_prompt(app, world, dev, make_user, login):
    run_id, _ = generate_and_stream(dev, world["results"]["a"], context="note for the prompt")
    assert "Show prompt" not in dev.get(f"/plans/runs/{run_id}").get_data(as_text=True)
    assert dev.get(f"/plans/runs/{run_id}/prompt").status_code == 404
    make_user("root", admin=True)
    admin = login("root")
    assert "Show prompt" in admin.get(f"/plans/runs/{run_id}").get_data(as_text=True)
    prompt = admin.get(f"/plans/runs/{run_id}/prompt").get_data(as_text=True)
    assert "note for the prompt" in prompt and "Plan type: remediation" in prompt
    assert PLANTED not in prompt


def test_context_the_user_may_not_read_is_skipped_with_a_note(app, world, make_user, login):
    make_user("pods-only", {world["ns_a"]: {"pods"}})
    run_id, events = generate_and_stream(login("pods-only"), world["results"]["a"])
    run = get_run(app, run_id)
    assert run.status == "done"
    assert "registry.example/api:2.3" in run.prompt_text  # pods are granted: the object is there
    assert "events could not be read (Forbidden)" in run.prompt_text
    assert "Back-off restarting failed container api" not in run.prompt_text
