"""The offline planner speaks the OpenAI API: shapes, errors, streaming and concurrency."""

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest

from app.plans.core.model_client import ModelClient, ModelSettings
from tests.plans_core.planning_helpers import PLANNER_KEY, collect, simple_messages
from tests.support.planner_process import PlannerProcess


def call(url, body=None, key="offline"):
    """(status, parsed JSON) of a raw HTTP request."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {key}"} if key else {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_lists_its_model(planner):
    status, body = call(planner.base_url + "/models")
    assert status == 200
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == ["codex-offline-planner"]


def test_answers_without_streaming(planner):
    status, body = call(planner.base_url + "/chat/completions",
                        {"model": "codex-offline-planner", "messages": simple_messages()})
    assert status == 200
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["choices"][0]["message"]["role"] == "assistant"
    assert "kubectl -n team-a" in body["choices"][0]["message"]["content"]
    assert body["usage"]["total_tokens"] > 0


def test_stream_has_no_usage_chunk_unless_asked(planner):
    sdk = openai.OpenAI(base_url=planner.base_url, api_key="offline", max_retries=0)
    try:
        chunks = list(sdk.chat.completions.create(model="codex-offline-planner", messages=simple_messages(),
                                                  stream=True))
    finally:
        sdk.close()
    assert all(chunk.usage is None for chunk in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


@pytest.mark.parametrize(("body", "param"), [
    (b"{not json", None),
    ({"model": "codex-offline-planner"}, "messages"),
    ({"messages": [{"role": "user", "content": "hi"}]}, "model"),
    ({"model": "codex-offline-planner", "messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
])
def test_bad_requests_get_openai_shaped_400(planner, body, param):
    status, answer = call(planner.base_url + "/chat/completions", body)
    assert status == 400
    assert answer["error"]["type"] == "invalid_request_error"
    assert answer["error"]["param"] == param
    assert answer["error"]["message"]


def test_unknown_model_and_route_are_404(planner):
    status, answer = call(planner.base_url + "/chat/completions",
                          {"model": "nope", "messages": simple_messages()})
    assert (status, answer["error"]["code"], answer["error"]["param"]) == (404, "model_not_found", "model")
    status, answer = call(planner.base_url + "/engines")
    assert status == 404 and "Unknown route" in answer["error"]["message"]


@pytest.mark.parametrize("key", [None, "wrong"])
def test_required_key_missing_or_wrong_is_401(keyed_planner, key):
    status, answer = call(keyed_planner.base_url + "/models", key=key)
    assert status == 401
    assert answer["error"]["code"] == "invalid_api_key"
    assert call(keyed_planner.base_url + "/models", key=PLANNER_KEY)[0] == 200


def test_same_prompt_same_plan(model):
    first, _ = collect(model, simple_messages())
    second, _ = collect(model, simple_messages())
    assert "".join(first) == "".join(second)


def test_request_without_a_finding_gets_general_help(model):
    deltas, _ = collect(model, [{"role": "user", "content": "How do I fix my cluster?"}])
    assert "could not find a ```finding block" in "".join(deltas)


def test_fifty_concurrent_streams_all_complete(model):
    def run(_):
        deltas, done = collect(model, simple_messages())
        return "".join(deltas), done.finish_reason
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(run, range(50)))
    assert {reason for _, reason in results} == {"stop"}
    assert len({text for text, _ in results}) == 1


def test_odd_object_shapes_still_get_a_runbook(model):
    messages = simple_messages()
    messages[1]["content"] += "```yaml context=object\nkind: Pod\nspec: null\nstatus: {containerStatuses: null}\n```\n"
    messages[1]["content"] = messages[1]["content"].replace("back-off restarting failed container=web", "OOMKilled")
    deltas, done = collect(model, messages)
    assert "".join(deltas).startswith("# Remediation plan — OOMKilled: Pod `team-a/web-1`")


def test_markers_can_be_switched_off():
    with PlannerProcess("--no-markers", "--delay-ms", "0") as planner:
        client = ModelClient(ModelSettings(base_url=planner.base_url))
        try:
            deltas, done = collect(client, simple_messages("[[planner:fail=500]]"))
        finally:
            client.close()
    assert done.finish_reason == "stop" and deltas
