"""Which RoleBindings rbac_sync wants for a user's grants (no cluster: tests/lab and
tests/security/test_06_app_identity.py write them into the real one)."""

import pytest

from app.access import CHANGEABLE_NAMES
from app.cluster.gateway import Gateway
from app.cluster.rbac_sync import desired_bindings
from app.extensions import db
from app.kinds import KIND_NAMES
from app.models import User


@pytest.fixture
def wanted(app, make_user):
    """wanted(user_id, actions=True) -> {(namespace, binding name): role name}."""
    gw = Gateway()

    def read(uid, actions=True):
        with app.app_context():
            bindings = desired_bindings(db.session.get(User, uid), gw, actions)
        return {key: body["roleRef"]["name"] for key, body in bindings.items()}

    return read


def test_change_kinds_get_a_change_binding_beside_the_view_one(make_user, wanted):
    uid = make_user("dev", grants={"team-a": {"pods"}}, changes={"team-a": {"deployments"}})
    assert wanted(uid) == {
        ("team-a", f"cluster-codex-{uid}-pods"): "cluster-codex:view:pods",
        ("team-a", f"cluster-codex-{uid}-deployments"): "cluster-codex:view:deployments",
        ("team-a", f"cluster-codex-{uid}-change-deployments"): "cluster-codex:change:deployments",
    }


def test_read_only_mode_wants_view_bindings_only(make_user, wanted):
    uid = make_user("dev", changes={"team-a": {"deployments"}})
    assert wanted(uid, actions=False) == {
        ("team-a", f"cluster-codex-{uid}-deployments"): "cluster-codex:view:deployments"}


def test_a_stored_change_of_events_or_secrets_binds_no_change_role(make_user, wanted):
    uid = make_user("dev", changes={"team-a": {"events", "secrets"}})
    assert set(wanted(uid).values()) == {"cluster-codex:view:events", "cluster-codex:view:secrets"}


def test_administrators_change_every_changeable_kind_cluster_wide(make_user, wanted):
    uid = make_user("boss", admin=True)
    roles = wanted(uid)
    assert all(namespace is None for namespace, _ in roles)
    assert sorted(roles.values()) == sorted([f"cluster-codex:view:{k}" for k in KIND_NAMES]
                                            + [f"cluster-codex:change:{k}" for k in CHANGEABLE_NAMES])
    assert (None, f"cluster-codex-admin-{uid}-change-pods") in roles
    assert sorted(wanted(uid, actions=False).values()) == sorted(f"cluster-codex:view:{k}" for k in KIND_NAMES)


def test_disabled_users_want_nothing(make_user, wanted):
    assert wanted(make_user("off", disabled=True, changes={"team-a": {"pods"}})) == {}
