"""The issue dashboard against the lab: right findings for the right users, safely rendered."""

import re
import socket
from pathlib import Path

import pytest
import yaml
from markupsafe import escape
from view_fixtures import PASSWORD, XSS, ViewTestConfig, page_text

from app import create_app
from app.extensions import db
from app.models import Grant, User


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


def test_play_buttons_follow_the_plans_endpoint(world, app, dev_a):
    text = page_text(dev_a.get("/"))
    assert "Remediation plan" in text and "Root cause" in text
    if "plans.dialog" in app.view_functions:
        assert f"result={world['results']['a_pod']}" in text
    else:
        assert "disabled" in text


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
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    kubeconfig = yaml.safe_load(Path(ViewTestConfig.CODEX_KUBECONFIG).read_text())
    for cluster in kubeconfig["clusters"]:
        cluster["cluster"]["server"] = f"https://127.0.0.1:{port}"
    path = tmp_path / "closed.kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig))

    class Closed(ViewTestConfig):
        CODEX_KUBECONFIG = str(path)

    Closed.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'codex.db'}"
    return create_app(Closed)


def test_unreachable_cluster_shows_a_banner_not_a_traceback(unreachable_app):
    with unreachable_app.app_context():
        user = User(username="offline")
        user.set_password(PASSWORD)
        user.grants.append(Grant(namespace="team-a", kinds_csv="pods"))
        db.session.add(user)
        db.session.commit()
    client = unreachable_app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      page_text(client.get("/login"))).group(1)
    client.post("/login", data={"username": "offline", "password": PASSWORD, "csrf_token": token})
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
