"""Sessions end when their reason does.

Signing out, being disabled and a password change end every session of that user; no session
outlives CODEX_SESSION_ABSOLUTE_LIFETIME however active it is; an SSO login that changes admin
status pushes the change to cluster RBAC (pending when the cluster is down, never blocking).
"""

import time
import uuid

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Grant, User
from tests.support.oidc_flow import CLIENT_ID, is_signed_in, sign_in

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase"
ADMIN_GROUP = "codex-admins"


def signed_in_client(app, username, password=PASSWORD):
    client = app.test_client()
    assert client.submit("/login", {"username": username, "password": password}).status_code == 303
    return client


def test_signing_out_ends_that_users_other_sessions_too(app, make_user):
    make_user("ann")
    make_user("bob")
    laptop, phone = signed_in_client(app, "ann"), signed_in_client(app, "ann")
    bob = signed_in_client(app, "bob")

    laptop.submit("/logout")

    assert not is_signed_in(phone)
    assert is_signed_in(bob)
    assert is_signed_in(signed_in_client(app, "ann"))  # signing in again works


def test_a_copied_session_cookie_is_dead_after_sign_out(app, make_user):
    make_user("ann")
    client = signed_in_client(app, "ann")
    stolen = client.get_cookie("session").value

    client.submit("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen)

    assert not is_signed_in(thief)


def test_disabled_users_sessions_stay_ended_after_re_enabling(app, make_user):
    ann = make_user("ann")
    make_user("root", admin=True)
    ann_client, admin = signed_in_client(app, "ann"), signed_in_client(app, "root")

    assert admin.submit(f"/admin/users/{ann}/disable").status_code == 303
    assert admin.submit(f"/admin/users/{ann}/enable").status_code == 303

    assert not is_signed_in(ann_client)
    assert is_signed_in(signed_in_client(app, "ann"))


def test_password_change_ends_sessions(app, runner, make_user):
    make_user("ann")
    client = signed_in_client(app, "ann")

    result = runner.invoke(args=["users", "set-password", "ann", "--password-stdin"],
                           input=f"{NEW_PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert not is_signed_in(client)
    assert app.test_client().submit("/login", {"username": "ann", "password": PASSWORD}
                                    ).status_code == 401
    assert is_signed_in(signed_in_client(app, "ann", NEW_PASSWORD))


def test_set_password_refuses_sso_users_and_short_passwords(runner, make_user):
    make_user("sso", password=None, oidc_issuer="https://idp.example", oidc_subject="42")
    make_user("ann")

    sso = runner.invoke(args=["users", "set-password", "sso", "--password-stdin"],
                        input=f"{NEW_PASSWORD}\n")
    short = runner.invoke(args=["users", "set-password", "ann", "--password-stdin"],
                          input="short\n")

    assert sso.exit_code != 0 and "SSO" in sso.output
    assert short.exit_code != 0 and "8 characters" in short.output


def test_an_active_session_ends_at_the_absolute_lifetime(app, make_user):
    make_user("ann")
    app.config["CODEX_SESSION_ABSOLUTE_LIFETIME"] = 3
    client = signed_in_client(app, "ann")
    for _ in range(2):  # busy: a request every second
        time.sleep(1)
        assert is_signed_in(client)

    time.sleep(1.2)

    assert not is_signed_in(client)
    assert is_signed_in(signed_in_client(app, "ann"))


# -- SSO logins that change admin status ---------------------------------------------------------


@pytest.fixture
def sso_app(make_app, oidc_provider):
    """SSO with an admin group; the cluster is unreachable (the suite's default kubeconfig)."""
    return make_app(CODEX_OIDC_ISSUER=oidc_provider.issuer, CODEX_OIDC_CLIENT_ID=CLIENT_ID,
                    CODEX_OIDC_CLIENT_SECRET="test-secret", CODEX_ADMIN_GROUP=ADMIN_GROUP)


def sso_user(app, sub):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.oidc_subject == sub))
        grant = user.grants[0] if user.grants else None
        return (user.is_admin, user.rbac_pending,
                grant and (grant.sync_state, grant.sync_message))


def mark_synced(app, sub):
    """What a successful sync would have left: a synced grant, nothing pending."""
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.oidc_subject == sub))
        if not user.grants:
            user.grants.append(Grant(namespace="team-a", kinds={"pods"}))
        for grant in user.grants:
            grant.sync_state, grant.sync_message = "synced", None
        user.rbac_pending = False
        db.session.commit()


@pytest.mark.parametrize("groups_before, groups_after", [
    ([], [ADMIN_GROUP]),  # promoted by the provider
    ([ADMIN_GROUP], []),  # demoted by the provider
])
def test_sso_login_that_changes_admin_status_resyncs_rbac(sso_app, oidc_provider,
                                                          groups_before, groups_after):
    sub = f"user-{uuid.uuid4().hex[:10]}"
    oidc_provider.set_user(sub, groups=groups_before)
    sign_in(sso_app.test_client(), oidc_provider, sub)
    mark_synced(sso_app, sub)
    oidc_provider.set_user(sub, groups=groups_after)
    client = sso_app.test_client()

    response = sign_in(client, oidc_provider, sub)

    assert response.status_code == 303 and is_signed_in(client)  # the cluster being down: no block
    is_admin, pending, (state, message) = sso_user(sso_app, sub)
    assert is_admin == (ADMIN_GROUP in groups_after)
    # The sync ran (only it writes the grant's state) and left the change pending for the retry.
    assert pending and state == "pending" and "cluster RBAC will be synced" in message


def test_sso_login_without_a_change_of_admin_status_leaves_rbac_alone(sso_app, oidc_provider):
    sub = f"user-{uuid.uuid4().hex[:10]}"
    oidc_provider.set_user(sub, groups=[ADMIN_GROUP])
    sign_in(sso_app.test_client(), oidc_provider, sub)
    mark_synced(sso_app, sub)

    assert sign_in(sso_app.test_client(), oidc_provider, sub).status_code == 303

    assert sso_user(sso_app, sub) == (True, False, ("synced", None))
