"""The model client against the real offline planner, through the real openai SDK."""

import openai
import pytest

from app.config import Config
from app.findings import Finding
from app.plans.core.model_client import (ModelAuthFailed, ModelClient, ModelNotFound, ModelRateLimited,
                                       ModelServerError, ModelSettings, ModelStreamCut, ModelTimeout,
                                       ModelUnreachable, TextDelta)
from app.plans.core.context import gather_context
from app.plans.core.prompts import build_messages
from tests.plans_core.planning_helpers import PLANNER_KEY, collect, collect_until_error, simple_messages
from tests.plans_core.planning_samples import crash_loop
from tests.support.child_process import free_port
from tests.support.planner_process import PlannerProcess


def test_plan_streams_in_many_ordered_pieces(model, settings):
    deltas, done = collect(model, simple_messages())
    sdk = openai.OpenAI(base_url=settings.base_url, api_key="offline", max_retries=0)
    try:
        whole = sdk.chat.completions.create(model=settings.model, messages=simple_messages()).choices[0].message.content
    finally:
        sdk.close()
    assert len(deltas) > 50
    assert "".join(deltas) == whole
    assert whole.startswith("# Remediation plan — crash loop: Pod `team-a/web-1`")
    assert done.finish_reason == "stop"


def test_usage_and_timings_are_reported(model):
    _, done = collect(model, simple_messages())
    assert done.usage.prompt_tokens > 20
    assert done.usage.completion_tokens > 100
    assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens
    assert done.model == "codex-offline-planner"
    assert 0 <= done.time_to_first_token <= done.duration


def test_closed_port_is_reported_as_refused(make_model):
    port = free_port()
    model = make_model(base_url=f"http://127.0.0.1:{port}/v1", timeout=5)
    _, error = collect_until_error(model, simple_messages(), ModelUnreachable)
    assert error.status == "unreachable"
    assert f"http://127.0.0.1:{port}" in error.user_message
    assert "connection refused" in error.user_message


def test_wrong_api_key_is_401(keyed_planner, make_model):
    model = make_model(base_url=keyed_planner.base_url, api_key="not-the-key")
    _, error = collect_until_error(model, simple_messages(), ModelAuthFailed)
    assert error.status == "unauthorized"
    assert "HTTP 401" in error.user_message and "CODEX_LLM_API_KEY" in error.user_message


def test_right_api_key_is_accepted(keyed_planner, make_model):
    model = make_model(base_url=keyed_planner.base_url, api_key=PLANNER_KEY)
    deltas, done = collect(model, simple_messages())
    assert deltas and done.finish_reason == "stop"
    assert model.list_models() == ["codex-offline-planner"]


def test_unknown_model_is_404(make_model, planner):
    model = make_model(base_url=planner.base_url, model="gpt-7-imaginary")
    _, error = collect_until_error(model, simple_messages(), ModelNotFound)
    assert "'gpt-7-imaginary'" in error.user_message and "HTTP 404" in error.user_message
    assert "does not exist" in error.detail


@pytest.mark.parametrize(("status", "error_type"), [(429, ModelRateLimited), (500, ModelServerError),
                                                    (503, ModelServerError)])
def test_failing_server_status_is_explained(model, status, error_type):
    deltas, error = collect_until_error(model, simple_messages(f"[[planner:fail={status}]]"), error_type)
    assert deltas == []
    assert f"HTTP {status}" in error.user_message


def test_server_wide_fail_switch():
    with PlannerProcess("--fail-status", "503") as planner:
        model = ModelClient(ModelSettings(base_url=planner.base_url))
        try:
            _, error = collect_until_error(model, simple_messages(), ModelServerError)
        finally:
            model.close()
    assert error.status == "server_error"


def test_stream_cut_midway_keeps_the_partial_plan(model):
    deltas, error = collect_until_error(model, simple_messages("[[planner:cut_after=25]]"), ModelStreamCut)
    assert len(deltas) == 25
    assert "".join(deltas).startswith("# Remediation plan")
    assert error.status == "stream_cut" and "partial plan is kept" in error.user_message


def test_an_error_event_mid_stream_is_a_server_error_with_the_partial_plan_kept(model):
    deltas, error = collect_until_error(model, simple_messages("[[planner:error_after=9]]"), ModelServerError)
    assert len(deltas) == 9
    assert "failed in the middle of the plan" in error.user_message and "overloaded" in error.user_message
    assert "partial plan is kept" in error.user_message


def test_server_wide_cut_switch():
    with PlannerProcess("--cut-after-chunks", "7", "--delay-ms", "0") as planner:
        model = ModelClient(ModelSettings(base_url=planner.base_url))
        try:
            deltas, _ = collect_until_error(model, simple_messages(), ModelStreamCut)
        finally:
            model.close()
    assert len(deltas) == 7


def test_slow_stream_times_out(make_model, planner):
    model = make_model(base_url=planner.base_url, timeout=0.5)
    _, error = collect_until_error(model, simple_messages("[[planner:slow_ms=3000]]"), ModelTimeout)
    assert "did not answer within 0.5 s" in error.user_message


def test_server_that_never_answers_times_out(make_model, planner):
    model = make_model(base_url=planner.base_url, timeout=0.5)
    _, error = collect_until_error(model, simple_messages("[[planner:stall_ms=3000]]"), ModelTimeout)
    assert error.status == "timeout"


def test_stopping_a_plan_leaves_the_client_usable(model):
    stream = model.stream_plan(simple_messages("[[planner:slow_ms=20]]"))
    first = [next(stream) for _ in range(3)]
    stream.close()
    assert all(isinstance(event, TextDelta) for event in first)
    deltas, done = collect(model, simple_messages())
    assert done.finish_reason == "stop" and deltas


def test_settings_come_from_the_app_config():
    assert ModelSettings.from_mapping(vars(Config)) == ModelSettings() == ModelSettings(
        base_url="http://127.0.0.1:8765/v1", api_key="offline", model="codex-offline-planner", timeout=60.0)
    settings = ModelSettings.from_mapping({"CODEX_LLM_BASE_URL": "http://vllm:8000/v1", "CODEX_LLM_API_KEY": "k",
                                           "CODEX_LLM_MODEL": "qwen", "CODEX_LLM_TIMEOUT": "12.5",
                                           "CODEX_LLM_MAX_TOKENS": "900"})
    assert (settings.base_url, settings.api_key, settings.model, settings.timeout, settings.max_tokens) == (
        "http://vllm:8000/v1", "k", "qwen", 12.5, 900)


def test_token_limit_ends_the_plan_with_finish_reason_length(make_model, planner):
    model = make_model(base_url=planner.base_url, max_tokens=30)
    deltas, done = collect(model, simple_messages())
    assert len(deltas) == 30
    assert done.finish_reason == "length"


def test_only_the_users_notes_can_carry_test_switches(model):
    result, gateway = crash_loop()
    gateway.logs[("checkout-7d9f8c6b5-x2x9q", "checkout", True)] += "\nERROR [[planner:fail=500]]"
    finding = Finding.from_result(result)
    messages = build_messages(finding, "remediation", "", gather_context(gateway, finding))
    assert "[[planner:fail=500]]" in messages[1]["content"]
    deltas, done = collect(model, messages)
    assert done.finish_reason == "stop"
    noted = build_messages(finding, "remediation", "[[planner:fail=500]]", gather_context(gateway, finding))
    collect_until_error(model, noted, ModelServerError)
