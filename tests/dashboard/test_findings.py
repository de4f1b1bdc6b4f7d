"""Parsing K8sGPT Results into the one Finding the dashboard and the prompts share: robust to odd
shapes, masked for the model, readable but redacted for the page; the store telling "K8sGPT has
not reported yet" from "no issues"."""

import time

import pytest

from app.cluster.gateway import Forbidden, Unavailable
from app.findings import Finding, filter_findings, parse_results, sensitive_pairs, visible_findings
from app.result_store import (REPORT_WITHIN, PendingReport, ResultStore, Snapshot, k8sgpt_set_up_at,
                              namespace_creations, pending_report)
from app.resources.format import parse_time


def result(result_name="r1", **spec):
    body = {"kind": "Pod", "name": "team-a/web-1", "error": [{"text": "CrashLoopBackOff"}],
            "details": "", "parentObject": "Deployment/web", "backend": "noopai"}
    body.update(spec)
    return {"metadata": {"name": result_name, "creationTimestamp": "2026-11-26T10:00:00Z"},
            "spec": body, "status": {"lifecycle": "created"}}


def test_well_formed_result_becomes_a_finding():
    f = Finding.from_result(result())
    assert (f.kind, f.namespace, f.name, f.parent, f.lifecycle) == (
        "Pod", "team-a", "web-1", "Deployment/web", "created")
    assert f.errors == ("CrashLoopBackOff",)
    assert not f.malformed and f.created.year == 2026


def test_sensitive_values_show_only_their_masked_form():
    f = Finding.from_result(result(error=[{
        "text": "Secret db-password-prod not found for pod web-1",
        "sensitive": [{"unmasked": "db-password-prod", "masked": "ZGItcGFz"},
                      {"unmasked": "web-1", "masked": "d2Vi"}]}]))
    assert f.errors == ("Secret ZGItcGFz not found for pod d2Vi",)  # for prompts


def test_texts_for_the_model_are_masked_and_redacted():
    f = Finding.from_result(result(
        error=[{"text": "pod web-1 failed, password=hunter2-planted",
                "sensitive": [{"unmasked": "web-1", "masked": "d2Vi"}]}],
        details="web-1 reads token=planted-token-9 from its env"))
    assert f.errors == ("pod d2Vi failed, password=[REDACTED]",)
    assert f.details == "d2Vi reads token=[REDACTED] from its env"  # masked with the errors' values
    assert f.display_details == "web-1 reads token=[REDACTED] from its env"


def test_an_item_of_k8sgpt_analyze_json_parses_like_a_result():
    item = {"kind": "Pod", "name": "team-a/web-1", "parentObject": "Deployment/web", "details": "",
            "error": [{"Text": "back-off restarting pod web-1", "KubernetesDoc": "",
                       "Sensitive": [{"Unmasked": "web-1", "Masked": "d2Vi"}]}]}
    f = Finding.from_result(item)
    assert (f.kind, f.namespace, f.name, f.parent) == ("Pod", "team-a", "web-1", "Deployment/web")
    assert f.errors == ("back-off restarting pod d2Vi",)
    assert f.display_errors == ("back-off restarting pod web-1",)
    assert not f.malformed and f.result_name == ""  # no identity: the store would skip it
    assert parse_results([item]) == []


def test_analyze_json_casing_of_sensitive_values_is_understood():
    pairs = sensitive_pairs([{"Text": "x", "Sensitive": [{"Unmasked": "team-a", "Masked": "dGVhbS1h"}]}])
    assert pairs == [("team-a", "dGVhbS1h")]
    assert sensitive_pairs([{"sensitive": [{"unmasked": "x", "masked": ""}, "junk", {"unmasked": 3}]}]) == [
        ("x", "[REDACTED]")]


def test_a_cluster_scoped_finding_has_no_namespace_and_an_empty_one_in_the_prompt():
    node = Finding.from_result(result(kind="Node", name="kwok-node-1"))
    assert node.namespace is None and node.qualified_name == "kwok-node-1"
    assert node.as_prompt_dict()["namespace"] == ""
    pod = Finding.from_result(result())
    assert pod.qualified_name == "team-a/web-1" and pod.as_prompt_dict()["namespace"] == "team-a"


def test_display_errors_are_unmasked_but_redacted():
    f = Finding.from_result(result(error=[{
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
    f = Finding.from_result(result(**spec))
    assert f is not None and problem in f.problems


@pytest.mark.parametrize("obj", [None, "x", [], {}, {"metadata": "x"}, {"metadata": {"name": 3}}])
def test_results_without_identity_are_skipped(obj):
    assert parse_results([obj, result()]) and len(parse_results([obj])) == 0


def test_result_without_spec_is_malformed_and_for_admins_only():
    f = Finding.from_result({"metadata": {"name": "bare"}})
    assert f.malformed and f.namespace is None
    assert visible_findings([f], ["team-a"], is_admin=False) == []
    assert visible_findings([f], None, is_admin=True) == [f]


def test_wrong_types_everywhere_do_not_crash():
    f = Finding.from_result({"metadata": {"name": "odd", "creationTimestamp": 12},
                      "spec": {"kind": "Pod", "name": "team-a/x", "error": [{"text": "t",
                               "sensitive": "nope"}], "details": {"a": 1}, "parentObject": 3},
                      "status": ["x"]})
    assert f.errors == ("t",) and f.details == "" and f.parent == "" and f.created is None


def test_cluster_scoped_results_are_for_admins_only():
    node = Finding.from_result(result(kind="Node", name="kwok-node-1"))
    pod = Finding.from_result(result("r2"))
    assert node.cluster_scoped
    assert visible_findings([node, pod], ["team-a"], is_admin=False) == [pod]
    assert visible_findings([node, pod], None, is_admin=True) == [node, pod]


def test_grants_limit_findings_to_granted_namespaces():
    a = Finding.from_result(result("a", name="team-a/x"))
    b = Finding.from_result(result("b", name="team-b/y"))
    assert visible_findings([a, b], ["team-b"], is_admin=False) == [b]
    assert visible_findings([a, b], [], is_admin=False) == []


def test_filters_by_namespace_kind_and_text():
    a = Finding.from_result(result("a", name="team-a/x", kind="Service"))
    b = Finding.from_result(result("b", name="team-b/y", error=[{"text": "ImagePullBackOff"}]))
    assert filter_findings([a, b], namespace="team-b") == [b]
    assert filter_findings([a, b], kind="service") == [a]
    assert filter_findings([a, b], text="imagepull") == [b]
    assert filter_findings([a, b], text="nothing-like-this") == []


# -- "not reported yet" ------------------------------------------------------------------------


class Lister:
    """A fake Result lister: returns `items`, or raises `error`."""

    def __init__(self, items=()):
        self.items, self.error = list(items), None

    def __call__(self):
        if self.error:
            raise self.error
        return self.items


def store_set_up(lister, seconds_ago=20.0, set_up_at="default", namespaces=None):
    """A store whose fake K8sGPT was set up `seconds_ago`; reads on every snapshot."""
    since = time.time() - seconds_ago
    reader = (lambda created: since) if set_up_at == "default" else set_up_at
    return ResultStore(lister, max_age=0, set_up_at=reader,
                       namespaces=lambda: dict(namespaces or {})), since


def test_fresh_k8sgpt_without_results_has_not_reported_yet():
    store, since = store_set_up(Lister())
    snap = store.snapshot()
    assert snap.findings == [] and snap.k8sgpt_since == since
    assert pending_report(snap, ["team-a"]) == PendingReport(None, since, since + REPORT_WITHIN)
    assert pending_report(snap, ["team-a"], now=since + REPORT_WITHIN) is None  # overdue: no issues


def test_old_k8sgpt_without_results_means_no_issues():
    asked = []
    since = time.time() - REPORT_WITHIN - 1
    store = ResultStore(Lister(), max_age=0, set_up_at=lambda created: asked.append(1) or since)
    assert pending_report(store.snapshot(), ["team-a"]) is None
    store.snapshot()
    assert len(asked) == 1  # overdue once, overdue for good: a healthy cluster costs no reads


def test_once_k8sgpt_reported_it_never_has_not_reported_again():
    lister = Lister([result()])
    store, _ = store_set_up(lister)
    assert store.snapshot().findings and pending_report(store.snapshot(), ["team-a"]) is None
    lister.items = []  # every issue fixed within the first minute: a report of zero, not silence
    snap = store.snapshot()
    assert snap.findings == [] and snap.k8sgpt_since is None and pending_report(snap, None) is None


def test_a_result_without_identity_still_counts_as_a_report():
    store, _ = store_set_up(Lister([{"metadata": {}}]))
    snap = store.snapshot()
    assert snap.findings == [] and pending_report(snap, ["team-a"]) is None


def test_a_namespace_created_moments_ago_has_not_been_reported_on():
    now = time.time()
    store, _ = store_set_up(Lister([result(name="kube-system/x")]),
                            namespaces={"team-a": now - 10, "team-b": now - 5, "old": now - 3600})
    snap = store.snapshot()
    assert set(snap.new_namespaces) == {"team-a", "team-b"}  # only the young ones are kept
    assert pending_report(snap, ["team-a", "old"]) == PendingReport(
        "team-a", now - 10, now - 10 + REPORT_WITHIN)
    assert pending_report(snap, ["team-a", "team-b"]).namespace == "team-b"  # the latest due
    assert pending_report(snap, None).namespace == "team-b"  # administrators: every namespace
    assert pending_report(snap, ["old"]) is None
    assert pending_report(snap, ["team-a"], now=now - 10 + REPORT_WITHIN) is None


def test_the_first_report_and_a_new_namespace_the_latest_due_wins():
    snap = Snapshot(k8sgpt_since=100.0, new_namespaces={"team-a": 90.0})
    assert pending_report(snap, ["team-a"], now=120.0).namespace is None
    snap = Snapshot(k8sgpt_since=100.0, new_namespaces={"team-a": 130.0})
    assert pending_report(snap, ["team-a"], now=140.0).namespace == "team-a"


@pytest.mark.parametrize("set_up_at", [lambda created: None, None, lambda created: 1 / 0],
                         ids=["no K8sGPT object", "no set-up reader", "set-up reader fails"])
def test_unknown_set_up_time_keeps_the_plain_empty_state(set_up_at):
    store, _ = store_set_up(Lister(), set_up_at=set_up_at)
    snap = store.snapshot()
    assert snap.fetched_at and pending_report(snap, ["team-a"]) is None


def test_unreadable_namespaces_keep_the_plain_empty_state():
    store = ResultStore(Lister([result()]), max_age=0, namespaces=lambda: 1 / 0)
    snap = store.snapshot()
    assert snap.fetched_at and snap.new_namespaces == {} and pending_report(snap, None) is None


def test_unreachable_results_show_the_outage_not_not_reported_yet():
    lister = Lister()
    lister.error = Unavailable("down")
    store, _ = store_set_up(lister, namespaces={"team-a": time.time()})
    snap = store.snapshot()
    assert snap.failing_since and pending_report(snap, ["team-a"]) is None


class FakeGateway:
    """Answers the reads namespace_creations and k8sgpt_set_up_at make, as the app."""

    k8sgpt_namespace = "k8sgpt"

    def __init__(self, k8sgpts=(), namespaces=None):
        self.k8sgpts, self.namespaces = k8sgpts, namespaces or {}

    def list_k8sgpts(self):
        if isinstance(self.k8sgpts, Exception):
            raise self.k8sgpts
        return [{"metadata": {"creationTimestamp": t}} for t in self.k8sgpts]

    def as_app(self):
        return "app-client"

    def get(self, api, path, **query):
        assert (api, path, query) == ("app-client", "/api/v1/namespaces", {"resourceVersion": "0"})
        return {"items": [{"metadata": {"name": n, "creationTimestamp": t}}
                          for n, t in self.namespaces.items()] + [{"metadata": None}, "junk"]}


def epoch(text):
    return parse_time(text).timestamp()


def test_namespace_creations_are_read_from_the_namespace_list():
    gw = FakeGateway(namespaces={"team-a": "2026-12-01T10:00:00Z", "broken": "yesterday"})
    assert namespace_creations(gw) == {"team-a": epoch("2026-12-01T10:00:00Z")}


def test_set_up_time_is_the_newest_k8sgpt_objects_creation():
    gw = FakeGateway(["2026-12-01T10:00:00Z", "2026-12-01T10:05:00Z"])
    assert k8sgpt_set_up_at(gw, {"k8sgpt": 0.0}) == epoch("2026-12-01T10:05:00Z")


def test_without_rbac_on_k8sgpt_objects_the_namespace_age_stands_in():
    gw = FakeGateway(Forbidden("results only"))
    assert k8sgpt_set_up_at(gw, {"k8sgpt": 1234.5}) == 1234.5
    assert k8sgpt_set_up_at(gw, {}) is None


def test_no_k8sgpt_object_means_no_set_up_time():
    assert k8sgpt_set_up_at(FakeGateway([]), {"k8sgpt": 1234.5}) is None
