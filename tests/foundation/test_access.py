"""The access policy: access_for(user) and Access.allows / namespaces / kinds."""

import pytest

from app.access import CHANGE, CHANGEABLE_NAMES, VIEW, Access, actions_enabled, access_for
from app.extensions import db
from app.kinds import KIND_NAMES, get_kind
from app.models import User


@pytest.fixture
def users(app, make_user):
    ids = {
        "dev": make_user("dev", grants={"team-a": {"pods", "events"}, "team-b": {"secrets"}},
                         changes={"team-a": {"deployments"}}),
        "none": make_user("none"),
        "admin": make_user("boss", admin=True, grants={"team-z": {"pods"}}),
        "off": make_user("off", disabled=True, grants={"team-a": set(KIND_NAMES)}),
    }
    with app.app_context():
        yield {name: access_for(db.session.get(User, uid)) for name, uid in ids.items()}


def test_grants_map_namespaces_to_kinds(users):
    assert users["dev"].grants == {
        VIEW: {"team-a": {"pods", "events", "deployments"}, "team-b": {"secrets"}},
        CHANGE: {"team-a": {"deployments"}},
    }


def test_user_without_grants_sees_nothing(users):
    none = users["none"]
    assert not none.allows("team-a", "pods") and not none.allows("team-a")
    assert not none.has_any and none.kinds() == [] and none.namespaces() == []


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
def test_allows_follows_namespace_and_kind(users, namespace, kind, allowed):
    assert users["dev"].allows(namespace, kind) is allowed
    if kind:  # a Kind from the registry gives the same answer as its grant name
        assert users["dev"].allows(namespace, get_kind(kind)) is allowed


def test_namespaces_and_kinds_follow_the_grants(users):
    dev = users["dev"]
    assert dev.namespaces() == ["team-a", "team-b"]
    assert dev.namespaces("pods") == ["team-a"] and dev.namespaces(get_kind("secrets")) == ["team-b"]
    assert [k.name for k in dev.kinds()] == ["pods", "deployments", "events", "secrets"]  # registry order


def test_admin_sees_everything_including_cluster_scoped(users):
    admin = users["admin"]
    assert admin.allows("anything", "secrets") and admin.allows(None) and admin.has_any
    assert admin.namespaces() is None  # every namespace
    assert admin.granted_namespaces() == ["team-z"]  # their own grants, for the namespace menu
    assert len(admin.kinds()) == len(KIND_NAMES)


def test_disabled_user_sees_nothing_despite_grants(users):
    assert users["off"] == Access() and not users["off"].allows("team-a", "pods")


def test_disabled_admin_is_no_admin(app, make_user):
    uid = make_user("gone", admin=True, disabled=True)
    with app.app_context():
        assert not access_for(db.session.get(User, uid)).allows("team-a", "pods")


def test_anonymous_sees_nothing(app):
    from flask_login import AnonymousUserMixin

    with app.app_context():
        assert access_for(AnonymousUserMixin()) == Access() == access_for(None)


def test_an_unknown_verb_is_an_error_not_a_refusal(users):
    with pytest.raises(ValueError):
        users["dev"].allows("team-a", "pods", verb="delete")


@pytest.mark.parametrize("namespace, kind, allowed", [
    ("team-a", "deployments", True),
    ("team-a", None, True),  # some kind may be changed there
    ("team-a", "pods", False),  # view only
    ("team-a", "events", False),
    ("team-b", "secrets", False),
    ("team-b", "deployments", False),
    ("team-c", "deployments", False),
    (None, "deployments", False),
])
def test_change_follows_the_change_kinds_only(users, namespace, kind, allowed):
    assert users["dev"].allows(namespace, kind, CHANGE) is allowed
    if kind:
        assert users["dev"].allows(namespace, get_kind(kind), CHANGE) is allowed


def test_a_change_grant_implies_view(users):
    dev = users["dev"]
    assert dev.allows("team-a", "deployments") and dev.allows("team-a", "deployments", VIEW)
    assert dev.namespaces("deployments", CHANGE) == ["team-a"]
    assert [k.name for k in dev.kinds(CHANGE)] == ["deployments"]


def test_user_without_change_grants_may_change_nothing(users):
    for name in ("none", "off"):
        assert not users[name].allows("team-a", "deployments", CHANGE)
        assert users[name].kinds(CHANGE) == [] and users[name].namespaces(verb=CHANGE) == []


def test_admin_may_change_every_changeable_kind_in_every_namespace(users):
    admin = users["admin"]
    assert all(admin.allows("anything", k, CHANGE) for k in CHANGEABLE_NAMES)
    assert {k.name for k in admin.kinds(CHANGE)} == CHANGEABLE_NAMES
    assert admin.namespaces(verb=CHANGE) is None
    # Not even administrators change events, Secrets, cluster-scoped or unknown kinds here.
    for namespace, kind in (("team-a", "events"), ("team-a", "secrets"), (None, "deployments"),
                            ("team-a", "nodes"), (None, None)):
        assert not admin.allows(namespace, kind, CHANGE)


def test_change_stored_for_events_or_secrets_is_ignored(app, make_user):
    uid = make_user("odd", changes={"team-a": {"events", "secrets", "pods"}})
    with app.app_context():
        access = access_for(db.session.get(User, uid))
    assert access.grants[CHANGE] == {"team-a": {"pods"}}
    assert not access.allows("team-a", "secrets", CHANGE) and access.allows("team-a", "secrets")


def test_read_only_mode_refuses_every_change(app, make_user):
    uid = make_user("ro", changes={"team-a": {"deployments"}})
    admin = make_user("ro-admin", admin=True)
    app.config["CODEX_ACTIONS"] = False
    with app.app_context():
        assert not actions_enabled(app.config)
        user, boss = (access_for(db.session.get(User, i)) for i in (uid, admin))
    for access in (user, boss):
        assert not access.allows("team-a", "deployments", CHANGE)
        assert access.kinds(CHANGE) == [] and access.namespaces(verb=CHANGE) == []
    assert user.allows("team-a", "deployments") and boss.allows("team-a", "deployments")


def test_actions_are_on_by_default(app):
    assert actions_enabled(app.config) is True
