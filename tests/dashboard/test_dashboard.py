"""The issue dashboard against the lab: right findings for the right users, safely rendered."""

import re
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from markupsafe import escape

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.result_store import REPORT_WITHIN, STORE_KEY, ResultStore
from tests.dashboard.view_fixtures import PASSWORD, TEST_LABEL, XSS, ViewTestConfig, page_text
from tests.support.child_process import free_port
from tests.support.users import add_user

NOT_REPORTED = "K8sGPT has not reported yet"
REGION = {"HX-Request": "true", "HX-Target": "issues-region"}


def test_user_sees_findings_of_granted_namespace_only(world, dev_a):
    text = page_text(dev_a.get("/"))
    assert world["results"]["a_pod"] in text and world["results"]["a_sensitive"] in text
    assert world["ns_a"] in text
    assert world["ns_b"] not in text and "only-in-" not in text
    assert "cluster-scoped finding" not in text  # Node: administrators only
    assert world["results"]["no_spec"] not in text and world["results"]["bad_name"] not in text


def test_error_texts_are_readable_but_redacted(world, dev_a):
    # The page shows K8sGPT's sensitive values unmasked (the row shows that namespace/name
    # anyway); real secrets in the text are still redacted.
    text = page_text(dev_a.get("/"))
    assert "Secret db-credentials-prod is not found" in text
    assert "ZGItY3Jl" not in text
    assert f"Deployment {world['ns_a']}/api has 1 replicas, password=[REDACTED]" in text
    assert "hunter2-planted" not in text
    assert "YXBp" not in text
    assert "hunter2-planted" not in page_text(dev_a.get("/?q=hunter2"))


def test_html_in_findings_renders_as_text(world, dev_a):
    text = page_text(dev_a.get("/"))
    assert XSS not in text and "<script>alert" not in text
    assert str(escape(XSS)) in text


def test_admin_sees_cluster_scoped_and_malformed_results(world, admin):
    response = admin.get("/")
    text = page_text(response)
    assert response.status_code == 200
    assert "cluster-scoped finding" in text
    for key in ("no_spec", "empty", "bad_name"):
        assert world["results"][key] in text and "Malformed Result" in text
    assert world["ns_b"] in text and world["ns_a"] in text


def test_odd_error_entries_do_not_break_the_row(world, dev_a):
    text = page_text(dev_a.get(f"/?q={world['results']['odd_errors']}"))
    assert "real text" in text and "an error without text" in text


@pytest.mark.parametrize("query, present, absent", [
    ("ns={a}&q=web-1", ["Secret db-credentials-prod"], ["back-off restarting"]),
    ("kind=Pod&q=back-off", ["back-off restarting"], ["Secret db-credentials-prod"]),
])
def test_filters_live_in_the_url(world, dev_a, query, present, absent):
    text = page_text(dev_a.get("/?" + query.format(a=world["ns_a"])))
    for needle in present:
        assert needle in text
    for needle in absent:
        assert needle not in text


def test_filter_on_ungranted_namespace_shows_nothing_of_it(world, dev_a):
    text = page_text(dev_a.get(f"/?ns={world['ns_b']}"))
    assert "only-in-" not in text and "No issues match these filters" in text


def test_filter_that_matches_nothing_says_so(world, dev_a):
    text = page_text(dev_a.get("/?q=nothing-could-ever-match-this"))
    assert "No issues match these filters" in text


def test_refresh_fragment_keeps_the_query_and_varies(world, dev_a):
    response = dev_a.get(f"/?ns={world['ns_a']}&q=web",
                         headers={"HX-Request": "true", "HX-Target": "issues-region"})
    text = page_text(response)
    assert "<html" not in text and 'id="issues-region"' in text
    assert 'hx-trigger="every 10s"' in text
    assert f"hx-get=\"/?ns={world['ns_a']}&amp;q=web\"" in text
    assert "HX-Request" in response.headers["Vary"]
    full = dev_a.get(f"/?ns={world['ns_a']}&q=web")
    assert "<html" in page_text(full) and 'name="q" value="web"' in page_text(full)


def test_play_buttons_open_the_plan_dialog(world, dev_a):
    text = page_text(dev_a.get("/"))
    assert "Remediation plan" in text and "mode=remediation" in text and "mode=root_cause" in text
    assert f"/plans/dialog?result={world['results']['a_pod']}" in text


def test_user_without_grants_is_told_to_ask(world, make_user, login):
    make_user("newcomer")
    text = page_text(login("newcomer").get("/"))
    assert "ask an administrator" in text
    assert world["ns_a"] not in text


def test_empty_state_for_quiet_namespaces(world, make_user, login):
    make_user("quiet", {f"{world['prefix']}-quiet": ["pods"]})
    assert "No issues in your namespaces" in page_text(login("quiet").get("/"))


@pytest.fixture
def unreachable_app(tmp_path):
    """The app pointed at a loopback port where nothing listens."""
    port = free_port()
    kubeconfig = yaml.safe_load(Path(ViewTestConfig.CODEX_KUBECONFIG).read_text())
    for cluster in kubeconfig["clusters"]:
        cluster["cluster"]["server"] = f"https://127.0.0.1:{port}"
    path = tmp_path / "closed.kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig))

    class Closed(ViewTestConfig):
        CODEX_KUBECONFIG = str(path)

    Closed.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'codex.db'}"
    return create_app(Closed)


def local_user_client(app, username, namespace="team-a"):
    """Create a local user granted pods in `namespace` (database only) and log them in."""
    with app.app_context():
        add_user(username, password=PASSWORD, grants={namespace: {"pods"}})
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      page_text(client.get("/login"))).group(1)
    client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    return client


def test_unreachable_cluster_shows_a_banner_not_a_traceback(unreachable_app):
    client = local_user_client(unreachable_app, "offline")
    first = client.get("/")
    again = client.get("/", headers={"HX-Request": "true", "HX-Target": "issues-region"})
    for response in (first, again):
        text = page_text(response)
        assert response.status_code == 200
        assert "cannot be reached since" in text and "Traceback" not in text
    since = re.search(r'<time datetime="([^"]+)"', page_text(first)).group(1)
    assert since in page_text(again)  # the outage start is remembered, not reset per request
    tab = client.get("/resources/pods")
    assert tab.status_code == 503 and "cannot be reached" in page_text(tab)


# -- before K8sGPT's first report ----------------------------------------------------------------


def _result(name, object_name, text):
    return {"apiVersion": "core.k8sgpt.ai/v1alpha1", "kind": "Result",
            "metadata": {"name": name, "labels": dict(TEST_LABEL)},
            "spec": {"kind": "Pod", "name": object_name, "error": [{"text": text}], "details": "",
                     "parentObject": "", "backend": "noopai", "autoRemediationStatus": {}}}


def _hms(timestamp):
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%H:%M:%S UTC")


def shown_text(html):
    """The page's text as a reader sees it: no tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


@pytest.fixture
def fresh_k8sgpt(tmp_path):
    """The app (no cluster) on fake readers: Results `items`, namespace ages `created`, and a
    K8sGPT set up 20 s ago."""
    config = type("Config", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'codex.db'}"})
    app = create_app(config)
    since = time.time() - 20
    items, created = [], {"team-a": since - 3600}
    app.extensions[STORE_KEY] = ResultStore(lambda: items, max_age=0, namespaces=lambda: dict(created),
                                            set_up_at=lambda namespaces: since)
    yield app, items, created, since
    with app.app_context():
        db.engine.dispose()


def test_fresh_k8sgpt_says_not_reported_yet_and_when_then_shows_rows(fresh_k8sgpt):
    app, items, _, since = fresh_k8sgpt
    client = local_user_client(app, "early-bird")
    text = page_text(client.get("/"))
    assert (f"K8sGPT has not reported yet: its first analysis is expected by "
            f"{_hms(since + REPORT_WITHIN)} (about {REPORT_WITHIN:.0f} s after K8sGPT "
            f"was set up at {_hms(since)}). This list updates itself.") in shown_text(text)
    assert "No issues in your namespaces" not in text
    assert 'hx-trigger="every 10s"' in text  # the region polls, so the rows arrive without a reload

    items.append(_result("r-early", "team-a/web-0", "back-off restarting failed container"))
    fragment = page_text(client.get("/", headers=REGION))
    assert "back-off restarting failed container" in fragment and NOT_REPORTED not in fragment
    items.clear()  # every issue fixed: K8sGPT did report, so the plain empty state is right
    assert "No issues in your namespaces" in page_text(client.get("/", headers=REGION))


def test_results_elsewhere_mean_k8sgpt_has_reported(fresh_k8sgpt):
    app, items, _, _ = fresh_k8sgpt
    items.append(_result("r-other", "team-z/web-0", "not in team-a"))
    text = page_text(local_user_client(app, "quiet-early").get("/"))
    assert "No issues in your namespaces" in text and NOT_REPORTED not in text


def test_a_namespace_created_moments_ago_has_not_been_reported_on(fresh_k8sgpt):
    app, items, created, _ = fresh_k8sgpt
    items.append(_result("r-other", "kube-system/x", "K8sGPT has reported on other namespaces"))
    created["team-a"] = time.time() - 5
    text = shown_text(page_text(local_user_client(app, "new-team").get("/")))
    assert (f"K8sGPT has not reported on team-a yet: its findings there are expected by "
            f"{_hms(created['team-a'] + REPORT_WITHIN)} (about {REPORT_WITHIN:.0f} s after the "
            f"namespace was created at {_hms(created['team-a'])}).") in text
    assert "No issues in your namespaces" not in text


@pytest.fixture
def empty_k8sgpt_namespace(kube):
    """A fresh namespace the app may read Results in (as the chart's Role does), with none yet."""
    ns = f"codex-dash-k8sgpt-{uuid.uuid4().hex[:6]}"
    kube.create("/api/v1/namespaces", {"metadata": {"name": ns, "labels": TEST_LABEL}})
    rbac = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}"
    kube.create(f"{rbac}/roles", {"metadata": {"name": "results-reader", "labels": TEST_LABEL},
                                  "rules": [{"apiGroups": ["core.k8sgpt.ai"], "resources": ["results"],
                                             "verbs": ["get", "list", "watch"]}]})
    kube.create(f"{rbac}/rolebindings", {
        "metadata": {"name": "results-reader", "labels": TEST_LABEL},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "results-reader"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "cluster-codex-app"}]})
    yield ns
    kube.delete(f"/api/v1/namespaces/{ns}")


def test_lab_k8sgpt_namespace_without_results_says_not_reported_yet(kube, empty_k8sgpt_namespace, tmp_path):
    ns = empty_k8sgpt_namespace
    config = type("Config", (ViewTestConfig,), {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'codex.db'}", "CODEX_K8SGPT_NAMESPACE": ns})
    app = create_app(config)
    try:
        client = local_user_client(app, "lab-early-bird", namespace=ns)
        text = page_text(client.get("/"))
        # The app may not read K8sGPT objects here: the fresh namespace's age stands in.
        assert NOT_REPORTED in text and "No issues in your namespaces" not in text
        kube.create(f"/apis/core.k8sgpt.ai/v1alpha1/namespaces/{ns}/results",
                    _result("first-report", f"{ns}/web-0", "first report from K8sGPT"))
        fragment = page_text(client.get("/", headers=REGION))
        assert "first report from K8sGPT" in fragment and NOT_REPORTED not in fragment
    finally:
        app.extensions["codex_gateway"].close()
        with app.app_context():
            db.engine.dispose()


def test_lab_new_namespace_is_reported_on_by_the_time_promised(kube, make_user, login):
    # K8sGPT has reported on the lab long ago; a namespace made now is news to it. Even an empty
    # namespace gets a finding (its kube-root-ca.crt ConfigMap is "not used by any pods").
    ns = f"codex-dash-new-{uuid.uuid4().hex[:6]}"
    due = time.time() + REPORT_WITHIN
    kube.create("/api/v1/namespaces", {"metadata": {"name": ns, "labels": TEST_LABEL}})
    try:
        make_user("newcomer-team", {ns: ["pods"]})
        client = login("newcomer-team")
        text = shown_text(page_text(client.get("/")))
        assert f"K8sGPT has not reported on {ns} yet: its findings there are expected by" in text
        while "issues-table" not in (fragment := page_text(client.get("/", headers=REGION))):
            assert time.time() < due, f"K8sGPT wrote no Result about {ns} by the time promised"
            time.sleep(2)
        assert NOT_REPORTED not in fragment and f"not reported on {ns}" not in fragment
    finally:
        kube.delete(f"/api/v1/namespaces/{ns}")
