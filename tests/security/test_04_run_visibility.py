"""Hole 4: a plan run is readable by its owner, administrators, and users who hold every kind its
context read — not by a teammate granted only services in that namespace."""

import pytest

from tests.plans.plan_helpers import generate_and_stream
from tests.security.plan_world import app_config, sec_world  # noqa: F401

KINDS_READ = {"pods", "events"}


@pytest.fixture
def run_id(sec_world, lab_user, sign_in):
    lab_user("owner", {sec_world["ns_a"]: KINDS_READ | {"services"}})
    run_id, _ = generate_and_stream(sign_in("owner"), sec_world["results"]["a"])
    return run_id


def _history_url(ns):
    return f"/plans/history?kind=Pod&namespace={ns}&name=api-0"


def test_a_teammate_with_services_only_cannot_read_the_run(sec_world, lab_user, sign_in, run_id):
    ns = sec_world["ns_a"]
    lab_user("teammate", {ns: {"services"}})
    client = sign_in("teammate")
    for url in (f"/plans/runs/{run_id}", f"/plans/runs/{run_id}/stream",
                f"/plans/runs/{run_id}/prompt"):
        assert client.get(url).status_code == 404, url
    history = client.get(_history_url(ns), headers={"HX-Request": "true"})
    assert history.status_code == 200 and f"/plans/runs/{run_id}" not in history.get_data(as_text=True)


def test_a_teammate_with_every_kind_read_can(sec_world, lab_user, sign_in, run_id):
    ns = sec_world["ns_a"]
    lab_user("peer", {ns: KINDS_READ})
    client = sign_in("peer")
    assert client.get(f"/plans/runs/{run_id}").status_code == 200
    assert f"/plans/runs/{run_id}" in client.get(_history_url(ns)).get_data(as_text=True)


def test_owner_and_admin_can(sec_world, lab_user, sign_in, run_id):
    lab_user("root", admin=True)
    assert sign_in("root").get(f"/plans/runs/{run_id}").status_code == 200
    assert sign_in("owner").get(f"/plans/runs/{run_id}").status_code == 200


def test_the_run_records_the_kinds_its_context_read(app, run_id):
    from app.extensions import db
    from app.models import PlanRun
    from app.plans.runs import context_kinds_of

    with app.app_context():
        kinds = set(context_kinds_of(db.session.get(PlanRun, run_id)))
    assert KINDS_READ <= kinds and "services" not in kinds
