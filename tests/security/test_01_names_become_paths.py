"""Hole 1: names read from the cluster never become URL paths unchecked.

A Pod whose ownerReference is named ``../secrets`` once made the plan's context gathering request
``.../pods/../secrets``, which the HTTP stack collapsed into *list secrets*, and the prompt carried
the Secret's data. Every path segment is now validated and quoted in the gateway; a name that fails
becomes a note, and nothing from the ``secrets`` resource keeps its values.
"""

import pytest

from app.cluster import paths
from app.cluster.gateway import Gateway, InvalidName, NotFound, _strip_secret_values
from app.extensions import db
from app.kinds import get_kind
from app.models import PlanRun
from tests.plans.plan_helpers import generate_and_stream
from tests.security.plan_world import (EVIL_OWNER, PLANTED, PLANTED_B64, app_config,  # noqa: F401
                                       sec_world)

BAD_NAMES = ["..", ".", "../secrets", "a/b", "web%2f..", "%2e%2e", "", "-web", "web-", "a" * 254,
             "web?watch=1", "web#x", "web,involvedObject.kind=Secret", "we b", "w\neb", "ünïcode"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_bad_object_name_never_becomes_a_path_segment(name):
    with pytest.raises(InvalidName):
        paths.name_segment(name)
    with pytest.raises(InvalidName):
        get_kind("pods").object_path("team-a", name)


@pytest.mark.parametrize("namespace", ["..", "Team-A", "team_a", "a" * 64, "team-a/pods", ""])
def test_a_bad_namespace_never_becomes_a_path_segment(namespace):
    with pytest.raises(InvalidName):
        paths.namespace_segment(namespace)


@pytest.mark.parametrize("name", ["web", "web-0", "web.v2", "cluster-codex:view:pods", "A1"])
def test_good_names_pass_quoted(name):
    assert paths.name_segment(name) == name.replace(":", "%3A")


def test_invalid_names_are_not_found_and_never_reach_the_network(unreachable_kubeconfig):
    # The API server is unreachable: a request would raise Unavailable, not InvalidName.
    gw = Gateway(kubeconfig=unreachable_kubeconfig, timeout=(1, 1))
    try:
        with pytest.raises(InvalidName) as raised:
            gw.get(gw.as_app(), "/api/v1/namespaces/team-a/pods/../secrets")
        assert isinstance(raised.value, NotFound)
        with pytest.raises(InvalidName):
            get_kind("pods").object_path("team-a", EVIL_OWNER)
        with pytest.raises(InvalidName):
            gw.get_result("../../secrets")
    finally:
        gw.close()


def test_secrets_resource_answers_lose_their_values_whatever_the_kind_says():
    answer = {"kind": "ConfigMapList", "items": [
        {"kind": "ConfigMap", "metadata": {"name": "db", "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"password":"x"}}'}},
         "data": {"password": "cGFzcw=="}, "stringData": {"password": "pass"}}]}
    _strip_secret_values(answer)
    item = answer["items"][0]
    assert "data" not in item and "stringData" not in item
    assert "kubectl.kubernetes.io/last-applied-configuration" not in item["metadata"]["annotations"]


def test_evil_owner_reference_becomes_a_note_not_a_secret_list(app, sec_world, lab_user, sign_in):
    ns = sec_world["ns_a"]
    lab_user("dev", {ns: {"pods", "events", "secrets", "replicasets", "deployments"}})
    client = sign_in("dev")
    run_id, events = generate_and_stream(client, sec_world["results"]["a"])
    with app.app_context():
        run = db.session.get(PlanRun, run_id)
        prompt, output = run.prompt_text, run.output_text
    assert "registry.example/api:2.3" in prompt  # the pod itself was read
    assert "SecretList" not in prompt and "db-credentials" not in prompt
    for secret in (PLANTED, PLANTED_B64):
        assert secret not in prompt and secret not in output
        assert all(secret not in event.data for event in events)
    assert "not a valid Kubernetes name" in prompt or "InvalidName" in prompt  # the note


def test_evil_owner_reference_on_the_detail_page_is_text_not_a_link(app, sec_world, lab_user, sign_in):
    ns = sec_world["ns_a"]
    lab_user("dev", {ns: {"pods", "secrets"}})
    page = sign_in("dev").get(f"/resources/pods/{ns}/api-0").get_data(as_text=True)
    assert "../secrets" in page  # shown as data
    assert 'href="/resources/pods/' + ns + '/../secrets"' not in page
    assert PLANTED not in page and PLANTED_B64 not in page


@pytest.mark.parametrize("name", ["..", "%2e%2e", "api-0,x"])
def test_dotted_or_odd_names_in_resource_urls_are_404(app, sec_world, lab_user, sign_in, name):
    ns = sec_world["ns_a"]
    lab_user("dev", {ns: {"pods", "secrets"}})
    response = sign_in("dev").get(f"/resources/pods/{ns}/{name}")
    assert response.status_code == 404
    assert PLANTED not in response.get_data(as_text=True)
