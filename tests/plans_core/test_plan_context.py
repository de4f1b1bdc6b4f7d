"""Live context: object, owners, events and logs, read through the gateway, bounded and redacted."""

import datetime

import pytest
import yaml

from app.plans.core.context import gather_context
from app.findings import Finding
from tests.plans_core.planning_samples import (PLANTED_PASSWORD, PLANTED_TOKEN, Missing, SampleGateway, crash_loop,
                                               event, pvc_pending)


def gathered(case=crash_loop, **options):
    result, gateway = case()
    return gather_context(gateway, Finding.from_result(result), **options), gateway


def test_pod_context_has_object_owner_chain_events_and_both_logs():
    context, _ = gathered()
    assert [(s.key, s.attrs.get("kind"), s.attrs.get("previous")) for s in context.sections] == [
        ("object", "Pod", None), ("owner", "ReplicaSet", None), ("owner", "Deployment", None),
        ("events", None, None), ("log", None, "true"), ("log", None, "false")]
    assert context.notes == []
    pod = yaml.safe_load(context.sections[0].body)
    assert pod["metadata"]["name"] == "checkout-7d9f8c6b5-x2x9q"
    assert "managedFields" not in pod["metadata"]
    assert yaml.safe_load(context.sections[2].body)["metadata"]["name"] == "checkout"


def test_no_secret_value_survives_anywhere():
    context, _ = gathered()
    everything = "\n".join(s.body for s in context.sections)
    for planted in (PLANTED_PASSWORD, PLANTED_TOKEN, "sk-live-PlantedValue0123456789abcdef"):
        assert planted not in everything
    env = yaml.safe_load(context.sections[0].body)["spec"]["containers"][0]["env"]
    assert env[0] == {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "checkout-db", "key": "password"}}}
    assert env[1]["value"] == "[REDACTED]" and env[2]["value"] == "debug"
    assert "FATAL config: required setting PAYMENT_GATEWAY_URL is missing" in everything


def test_events_are_listed_oldest_first_with_counts():
    context, _ = gathered()
    events = next(s for s in context.sections if s.key == "events").body.splitlines()
    assert events[0].startswith("2026-11-26T11:00:00Z Normal Pulled (x7):")
    assert events[1].startswith("2026-11-26T11:10:00Z Warning BackOff (x31): Back-off restarting failed container")


def test_events_as_returned_by_the_python_client_are_understood():
    gateway = SampleGateway([{"kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "team-a"}}], events={
        ("ConfigMap", "cm"): [
            {"type": "Warning", "reason": "Late", "message": "second", "count": 1,
             "last_timestamp": datetime.datetime(2026, 11, 26, 11, 5, tzinfo=datetime.timezone.utc)},
            {"type": "Normal", "reason": "Early", "message": "first", "count": 1,
             "last_timestamp": datetime.datetime(2026, 11, 26, 11, 1, tzinfo=datetime.timezone.utc)}]})
    context = gather_context(gateway, Finding("ConfigMap", "team-a", "cm"))
    assert [line.split(" ", 1)[1] for line in context.sections[1].body.splitlines()] == [
        "Normal Early: first", "Warning Late: second"]


def test_budget_trims_the_oldest_lines_first():
    full, _ = gathered()
    current_and_events = sum(s.size for s in full.sections if s.key == "events" or s.attrs.get("previous") == "false")
    budget = full.size - current_and_events - 100
    context, _ = gathered(budget_bytes=budget)
    assert context.size <= budget
    current = [s for s in context.sections if s.attrs.get("previous") == "false"]
    assert current == [], "the current log (least useful) goes first"
    assert "events" not in [s.key for s in context.sections], "then the oldest events"
    previous = next(s for s in context.sections if s.attrs.get("previous") == "true").body
    assert previous.endswith("required setting PAYMENT_GATEWAY_URL is missing"), "the newest lines stay"
    assert "warming cache shard 0" not in previous, "the oldest line went"
    assert any("oldest line(s) trimmed to fit the" in note for note in context.notes)


def test_tiny_budget_keeps_a_truncated_object_only():
    context, _ = gathered(budget_bytes=300)
    assert context.size <= 300
    assert [s.key for s in context.sections] == ["object"]
    assert any("truncated at the end" in note for note in context.notes)
    assert any("Owner Deployment checkout: dropped" in note for note in context.notes)


def test_log_tail_length_is_passed_to_the_gateway():
    _, gateway = gathered(log_lines=5)
    assert ("read_pod_log", "checkout-7d9f8c6b5-x2x9q", "checkout", True, 5) in gateway.calls


def test_missing_owner_and_previous_log_become_notes():
    result, gateway = crash_loop()
    del gateway.objects[("Deployment", "team-a", "checkout")]
    del gateway.logs[("checkout-7d9f8c6b5-x2x9q", "checkout", True)]
    context = gather_context(gateway, Finding.from_result(result))
    assert "owner Deployment/checkout could not be read (Missing)" in context.notes
    assert "previous log of container checkout could not be read (Missing)" in context.notes
    assert [s.key for s in context.sections] == ["object", "owner", "events", "log"]


def test_a_finding_whose_object_disappeared_raises_the_gateway_error():
    result, gateway = pvc_pending()
    gateway.objects.clear()
    with pytest.raises(Missing):
        gather_context(gateway, Finding.from_result(result))


def test_non_pod_findings_read_no_logs():
    context, gateway = gathered(pvc_pending)
    assert [s.key for s in context.sections] == ["object", "events"]
    assert not [call for call in gateway.calls if call[0] == "read_pod_log"]


def test_a_secret_finding_never_shows_its_data():
    secret = {"kind": "Secret", "metadata": {"name": "tls", "namespace": "team-a"}, "type": "kubernetes.io/tls",
              "data": {"tls.crt": "LS0tLS1CRUdJTi", "tls.key": "cGxhbnRlZC1rZXk="}}
    context = gather_context(SampleGateway([secret], events={("Secret", "tls"): [
        event("Mounted", "mounted", "2026-11-26T11:00:00Z", "Normal")]}), Finding("Secret", "team-a", "tls"))
    assert yaml.safe_load(context.sections[0].body)["data"] == {"tls.crt": "[REDACTED]", "tls.key": "[REDACTED]"}
