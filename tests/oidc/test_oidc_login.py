"""Signing in through a real OIDC provider: the flow, claim mapping, admin group, logout."""

import base64
import hashlib
from types import SimpleNamespace

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, User
from tests.support.oidc_flow import (
    CALLBACK_URL,
    CLIENT_ID,
    any_page,
    begin_sign_in,
    is_signed_in,
    sign_in,
    sign_out,
)
from tests.support.oidc_provider import query_params

ADMIN_GROUP = "codex-admins"


def user_by_subject(app, sub):
    """Return a detached snapshot of the user signed in as ``sub`` (or None)."""
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.oidc_subject == sub))
        if user is None:
            return None
        snapshot = SimpleNamespace(
            **{column.key: getattr(user, column.key) for column in User.__table__.columns}
        )
        snapshot.grant_count = len(user.grants)
        return snapshot


def audit_actions(app, target):
    with app.app_context():
        return [
            (event.action, event.detail)
            for event in db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.target == target).order_by(AuditEvent.id)
            )
        ]


def test_login_page_offers_sso_only_when_configured(make_app, oidc_provider):
    with_sso = make_app(CODEX_OIDC_ISSUER=oidc_provider.issuer).test_client()
    without_sso = make_app().test_client()

    assert "Sign in with SSO" in with_sso.get("/login").get_data(as_text=True)
    assert "Sign in with SSO" not in without_sso.get("/login").get_data(as_text=True)
    assert without_sso.get("/auth/oidc/login").status_code == 404


def test_sign_in_request_uses_code_flow_with_pkce_state_and_nonce(client, oidc_provider):
    url = begin_sign_in(client)
    params = query_params(url)

    assert url.startswith(f"{oidc_provider.issuer}/oauth2/authorize?")
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == CALLBACK_URL
    assert params["scope"].split() == ["openid", "email", "profile"]
    assert params["code_challenge_method"] == "S256"
    with client.session_transaction() as session:
        saved = session[f"_state_oidc_{params['state']}"]["data"]
    assert saved["nonce"] == params["nonce"]
    digest = hashlib.sha256(saved["code_verifier"].encode()).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_first_login_creates_user_with_claims_and_no_grants(app, client, oidc_provider, sub):
    oidc_provider.set_user(
        sub, email="Ada@Example.com", name="Ada Lovelace", preferred_username=f"ada-{sub}"
    )

    response = sign_in(client, oidc_provider, sub)

    assert response.status_code == 303
    assert is_signed_in(client)
    user = user_by_subject(app, sub)
    assert user.username == f"ada-{sub}"
    assert (user.email, user.display_name) == ("Ada@Example.com", "Ada Lovelace")
    assert user.oidc_issuer == oidc_provider.issuer
    assert user.password_hash is None
    assert not user.is_admin
    assert user.grant_count == 0
    assert user.last_login_at is not None
    actions = [action for action, _ in audit_actions(app, user.username)]
    assert actions == ["user.create", "login"]
    assert "Ada Lovelace" in any_page(client)  # shown as the signed-in user


def test_next_login_reuses_the_user_and_refreshes_email_and_name(app, oidc_provider, sub):
    oidc_provider.set_user(sub, email="old@example.com", name="Old Name")
    sign_in(app.test_client(), oidc_provider, sub)
    first = user_by_subject(app, sub)
    oidc_provider.set_user(sub, email="new@example.com", name="New Name")

    response = sign_in(app.test_client(), oidc_provider, sub)

    assert response.status_code == 303
    second = user_by_subject(app, sub)
    assert second.id == first.id
    assert second.username == first.username == "old"
    assert (second.email, second.display_name) == ("new@example.com", "New Name")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


def test_username_comes_from_email_and_is_made_unique(app, oidc_provider, sub):
    with app.app_context():
        db.session.add(User(username="grace.hopper"))
        db.session.commit()
    oidc_provider.set_user(sub, email="Grace.Hopper@example.com")

    sign_in(app.test_client(), oidc_provider, sub)

    assert user_by_subject(app, sub).username == "grace.hopper-2"


def test_same_subject_from_another_issuer_is_another_user(app, oidc_provider, sub):
    with app.app_context():
        db.session.add(
            User(username="other", oidc_subject=sub, oidc_issuer="https://elsewhere.example")
        )
        db.session.commit()

    sign_in(app.test_client(), oidc_provider, sub)

    with app.app_context():
        users = db.session.scalars(sa.select(User).where(User.oidc_subject == sub)).all()
        assert sorted(user.oidc_issuer for user in users) == sorted(
            ["https://elsewhere.example", oidc_provider.issuer]
        )


def test_login_returns_to_the_page_asked_for_but_never_off_site(client, oidc_provider, sub):
    inside = sign_in(client, oidc_provider, sub, next="/admin/users")
    outside = sign_in(client, oidc_provider, sub, next="//evil.example/x")

    assert inside.headers["Location"] == "/admin/users"
    assert outside.headers["Location"] == "/"


def test_admin_group_member_becomes_admin_and_leaving_it_demotes(make_app, oidc_provider, sub):
    app = make_app(CODEX_OIDC_ISSUER=oidc_provider.issuer, CODEX_ADMIN_GROUP=ADMIN_GROUP)
    oidc_provider.set_user(sub, email=f"{sub}@example.com", groups=["dev", ADMIN_GROUP])
    client = app.test_client()

    sign_in(client, oidc_provider, sub)

    assert user_by_subject(app, sub).is_admin
    assert client.get("/admin/users").status_code == 200

    oidc_provider.set_user(sub, email=f"{sub}@example.com", groups=["dev"])
    client = app.test_client()
    sign_in(client, oidc_provider, sub)

    assert not user_by_subject(app, sub).is_admin
    assert client.get("/admin/users").status_code == 403
    actions = [action for action, _ in audit_actions(app, sub)]
    assert actions == ["user.create", "user.promote", "login", "user.demote", "login"]


def test_groups_claim_name_is_configurable(make_app, oidc_provider, sub):
    app = make_app(
        CODEX_OIDC_ISSUER=oidc_provider.issuer,
        CODEX_ADMIN_GROUP=ADMIN_GROUP,
        CODEX_OIDC_GROUPS_CLAIM="roles",
    )
    oidc_provider.set_user(sub, email=f"{sub}@example.com", roles=ADMIN_GROUP, groups=[])

    sign_in(app.test_client(), oidc_provider, sub)

    assert user_by_subject(app, sub).is_admin


def test_without_admin_group_logins_leave_admin_rights_alone(app, oidc_provider, sub):
    oidc_provider.set_user(sub, email=f"{sub}@example.com", groups=[ADMIN_GROUP])
    sign_in(app.test_client(), oidc_provider, sub)
    assert not user_by_subject(app, sub).is_admin
    with app.app_context():
        db.session.execute(sa.update(User).where(User.oidc_subject == sub).values(is_admin=True))
        db.session.commit()
    oidc_provider.set_user(sub, email=f"{sub}@example.com", groups=[])

    sign_in(app.test_client(), oidc_provider, sub)

    assert user_by_subject(app, sub).is_admin


def test_logout_ends_the_sso_session(client, oidc_provider, sub):
    oidc_provider.set_user(sub, email=f"{sub}@example.com")
    sign_in(client, oidc_provider, sub)
    assert is_signed_in(client)

    response = sign_out(client)

    assert response.status_code == 303
    assert not is_signed_in(client)
    assert client.get("/admin/users").status_code == 302  # back to the login page
