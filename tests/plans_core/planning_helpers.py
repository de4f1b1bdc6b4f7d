"""Small helpers shared by the planning tests."""

from app.plans.core.context import gather_context
from app.findings import Finding
from app.plans.core.model_client import StreamDone, TextDelta
from app.plans.core.prompts import build_messages

PLANNER_KEY = "planner-test-key-0042"


def collect(model, messages):
    """Run a plan to the end: (deltas, done)."""
    deltas, done = [], None
    for event in model.stream_plan(messages):
        if isinstance(event, TextDelta):
            deltas.append(event.text)
        else:
            assert isinstance(event, StreamDone)
            done = event
    return deltas, done


def collect_until_error(model, messages, error_type):
    """Run a plan that must fail: (deltas received before the failure, the error)."""
    deltas = []
    try:
        for event in model.stream_plan(messages):
            if isinstance(event, TextDelta):
                deltas.append(event.text)
    except error_type as exc:
        return deltas, exc
    raise AssertionError(f"expected {error_type.__name__}, the plan finished with {len(deltas)} deltas")


def messages_for(case, mode="remediation", user_context=""):
    """Prompt messages for one of planning_samples.CASES, context gathered through its gateway."""
    result, gateway = case()
    finding = Finding.from_result(result)
    return finding, build_messages(finding, mode, user_context, gather_context(gateway, finding))


def simple_messages(user_extra=""):
    return [{"role": "system", "content": "Plan type: remediation"},
            {"role": "user", "content": '```finding\n{"kind": "Pod", "namespace": "team-a", "name": "web-1", '
                                        '"errors": ["back-off restarting failed container=web"]}\n```\n'
                                        + (f"```text context=user\n{user_extra}\n```\n" if user_extra else "")}]
