"""The access policy: grants_for and can_see."""

import pytest

from app.access import KINDS, can_see, grants_for, visible_namespaces
from app.extensions import db
from app.models import User


@pytest.fixture
def users(app, make_user):
    ids = {
        "dev": make_user("dev", grants={"team-a": {"pods", "events"}, "team-b": {"secrets"}}),
        "none": make_user("none"),
        "admin": make_user("boss", admin=True),
        "off": make_user("off", disabled=True, grants={"team-a": set(KINDS)}),
    }
    with app.app_context():
        yield {name: db.session.get(User, uid) for name, uid in ids.items()}


def test_grants_map_namespaces_to_kinds(users):
    assert grants_for(users["dev"]) == {"team-a": {"pods", "events"}, "team-b": {"secrets"}}


def test_user_without_grants_sees_nothing(users):
    assert grants_for(users["none"]) == {}
    assert not can_see(users["none"], "team-a", "pods")
    assert not can_see(users["none"], "team-a")


@pytest.mark.parametrize("namespace, kind, allowed", [
    ("team-a", "pods", True),
    ("team-a", "events", True),
    ("team-a", "secrets", False),
    ("team-a", None, True),
    ("team-b", "secrets", True),
    ("team-b", "pods", False),
    ("team-c", "pods", False),
    ("team-c", None, False),
    (None, None, False),
    (None, "pods", False),
])
def test_can_see_follows_namespace_and_kind(users, namespace, kind, allowed):
    assert can_see(users["dev"], namespace, kind) is allowed


def test_admin_sees_everything_including_cluster_scoped(users):
    assert can_see(users["admin"], "anything", "secrets")
    assert can_see(users["admin"], None)


def test_disabled_user_sees_nothing_despite_grants(users):
    assert grants_for(users["off"]) == {}
    assert not can_see(users["off"], "team-a", "pods")


def test_disabled_admin_is_no_admin(app, make_user):
    uid = make_user("gone", admin=True, disabled=True)
    with app.app_context():
        assert not can_see(db.session.get(User, uid), "team-a", "pods")


def test_anonymous_sees_nothing(app):
    from flask_login import AnonymousUserMixin

    with app.app_context():
        assert not can_see(AnonymousUserMixin(), "team-a", "pods")
        assert grants_for(None) == {}


def test_precomputed_grants_give_the_same_answer(users):
    grants = grants_for(users["dev"])
    assert can_see(users["dev"], "team-a", "pods", grants=grants)
    assert not can_see(users["dev"], "team-b", "pods", grants=grants)
    assert visible_namespaces(users["dev"], grants) == ["team-a", "team-b"]
