"""Parsing K8sGPT Result objects: robust to odd shapes, never showing unmasked values."""

import pytest

from app.findings import filter_findings, parse_result, parse_results, visible_findings


def result(result_name="r1", **spec):
    body = {"kind": "Pod", "name": "team-a/web-1", "error": [{"text": "CrashLoopBackOff"}],
            "details": "", "parentObject": "Deployment/web", "backend": "noopai"}
    body.update(spec)
    return {"metadata": {"name": result_name, "creationTimestamp": "2026-11-26T10:00:00Z"},
            "spec": body, "status": {"lifecycle": "created"}}


def test_well_formed_result_becomes_a_finding():
    f = parse_result(result())
    assert (f.kind, f.namespace, f.name, f.parent, f.lifecycle) == (
        "Pod", "team-a", "web-1", "Deployment/web", "created")
    assert f.errors == ("CrashLoopBackOff",)
    assert not f.malformed and f.created.year == 2026


def test_sensitive_values_show_only_their_masked_form():
    f = parse_result(result(error=[{
        "text": "Secret db-password-prod not found for pod web-1",
        "sensitive": [{"unmasked": "db-password-prod", "masked": "ZGItcGFz"},
                      {"unmasked": "web-1", "masked": "d2Vi"}]}]))
    assert f.errors == ("Secret ZGItcGFz not found for pod d2Vi",)  # for prompts


def test_display_errors_are_unmasked_but_redacted():
    f = parse_result(result(error=[{
        "text": "Secret db-password-prod not found for pod web-1, password=hunter2-planted",
        "sensitive": [{"unmasked": "db-password-prod", "masked": "ZGItcGFz"},
                      {"unmasked": "web-1", "masked": "d2Vi"}]}]))
    assert f.display_errors == (
        "Secret db-password-prod not found for pod web-1, password=[REDACTED]",)
    assert "hunter2-planted" not in f.search_text()
    assert "db-password-prod" in f.search_text()


@pytest.mark.parametrize("spec, problem", [
    ({"kind": 7}, "spec.kind missing"),
    ({"name": ["team-a/x"]}, "spec.name missing"),
    ({"name": "/x"}, "spec.name is not namespace/name"),
    ({"name": "Team A/x"}, "spec.name is not namespace/name"),
    ({"name": "team-a/"}, "spec.name is not namespace/name"),
    ({"error": "boom"}, "spec.error is not a list"),
    ({"error": [{"text": 5}, "x", None]}, "an error without text"),
])
def test_malformed_results_are_flagged_not_fatal(spec, problem):
    f = parse_result(result(**spec))
    assert f is not None and problem in f.problems


@pytest.mark.parametrize("obj", [None, "x", [], {}, {"metadata": "x"}, {"metadata": {"name": 3}}])
def test_results_without_identity_are_skipped(obj):
    assert parse_results([obj, result()]) and len(parse_results([obj])) == 0


def test_result_without_spec_is_malformed_and_for_admins_only():
    f = parse_result({"metadata": {"name": "bare"}})
    assert f.malformed and f.namespace is None
    assert visible_findings([f], ["team-a"], is_admin=False) == []
    assert visible_findings([f], None, is_admin=True) == [f]


def test_wrong_types_everywhere_do_not_crash():
    f = parse_result({"metadata": {"name": "odd", "creationTimestamp": 12},
                      "spec": {"kind": "Pod", "name": "team-a/x", "error": [{"text": "t",
                               "sensitive": "nope"}], "details": {"a": 1}, "parentObject": 3},
                      "status": ["x"]})
    assert f.errors == ("t",) and f.details == "" and f.parent == "" and f.created is None


def test_cluster_scoped_results_are_for_admins_only():
    node = parse_result(result(kind="Node", name="kwok-node-1"))
    pod = parse_result(result("r2"))
    assert node.cluster_scoped
    assert visible_findings([node, pod], ["team-a"], is_admin=False) == [pod]
    assert visible_findings([node, pod], None, is_admin=True) == [node, pod]


def test_grants_limit_findings_to_granted_namespaces():
    a = parse_result(result("a", name="team-a/x"))
    b = parse_result(result("b", name="team-b/y"))
    assert visible_findings([a, b], ["team-b"], is_admin=False) == [b]
    assert visible_findings([a, b], [], is_admin=False) == []


def test_filters_by_namespace_kind_and_text():
    a = parse_result(result("a", name="team-a/x", kind="Service"))
    b = parse_result(result("b", name="team-b/y", error=[{"text": "ImagePullBackOff"}]))
    assert filter_findings([a, b], namespace="team-b") == [b]
    assert filter_findings([a, b], kind="service") == [a]
    assert filter_findings([a, b], text="imagepull") == [b]
    assert filter_findings([a, b], text="nothing-like-this") == []
