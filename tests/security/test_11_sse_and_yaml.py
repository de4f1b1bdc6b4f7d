"""Hole 11 (the SSE and YAML parts): a carriage return in model output cannot forge an SSE field,
and the YAML view redacts what the README says it does (literal env values under secret-looking
names, token-like annotation values, kubectl's last-applied copy)."""

from app.kinds import get_kind
from app.web.sse import sse_event
from app.resources.yaml_view import object_yaml
from tests.plans.plan_helpers import parse_events

TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def test_a_carriage_return_cannot_start_an_sse_field():
    wire = sse_event("plan", "step 1\revent: done\rdata: forged\r\nstep 2")
    assert "\r" not in wire
    # A browser splits lines at CR too: after normalizing there is still exactly one event.
    events = parse_events(wire)
    assert [e.name for e in events] == ["plan"]
    assert "event: done" in events[0].data  # kept as text inside the data


def test_yaml_view_masks_literal_env_secrets_and_token_annotations():
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "api-0", "namespace": "team-a", "annotations": {
               "ci/token": TOKEN, "team": "payments",
               "kubectl.kubernetes.io/last-applied-configuration": '{"env":"API_TOKEN=literal-1"}'}},
           "spec": {"containers": [{"name": "api", "image": "api:2.3", "env": [
               {"name": "API_TOKEN", "value": "literal-tok3n-value"},
               {"name": "LOG_LEVEL", "value": "debug"}]}]}}
    text = object_yaml(get_kind("pods"), pod)
    assert "literal-tok3n-value" not in text and TOKEN not in text and "literal-1" not in text
    assert "debug" in text and "payments" in text and "api:2.3" in text
