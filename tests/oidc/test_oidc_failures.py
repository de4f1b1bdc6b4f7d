"""Refused OIDC sign-ins: a clear page, the right status, an audit line, nothing else written."""

import socket
import uuid

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, User
from tests.support.child_process import closed_port_url
from tests.support.oidc_flow import (
    CALLBACK_URL,
    begin_sign_in,
    is_signed_in,
    sign_in,
    sign_out,
    with_query,
)
from tests.support.oidc_provider import query_params, running_oidc_provider

UNREACHABLE = "The sign-in provider can&#39;t be reached"
MISCONFIGURED = "Single sign-on is not set up correctly"


def user_count(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(User.id)))


def failed_logins(app):
    with app.app_context():
        return db.session.scalars(
            sa.select(AuditEvent.detail).where(AuditEvent.action == "login.failed")
        ).all()


def assert_refused(app, client, response, status, message, reason):
    """The refusal is visible, audited, and left no user and no session behind."""
    page = response.get_data(as_text=True)
    assert response.status_code == status, page
    assert message in page
    assert "Back to sign in" in page
    assert user_count(app) == 0
    assert not is_signed_in(client)
    details = failed_logins(app)
    assert len(details) == 1 and reason in details[0], details


def test_provider_down_at_discovery_shows_unreachable(make_app):
    app = make_app(CODEX_OIDC_ISSUER=closed_port_url())
    client = app.test_client()

    response = client.get("/auth/oidc/login")

    assert_refused(app, client, response, 503, UNREACHABLE, "provider unreachable")


def test_provider_that_never_answers_times_out(make_app):
    """Connections are accepted but no reply comes: CODEX_OIDC_TIMEOUT ends the wait."""
    with socket.socket() as black_hole:
        black_hole.bind(("127.0.0.1", 0))
        black_hole.listen()
        host, port = black_hole.getsockname()
        app = make_app(CODEX_OIDC_ISSUER=f"http://{host}:{port}", CODEX_OIDC_TIMEOUT=0.5)
        client = app.test_client()

        response = client.get("/auth/oidc/login")

    assert_refused(app, client, response, 503, UNREACHABLE, "Timeout")


def test_provider_down_at_token_exchange_shows_unreachable(make_app, sub):
    with running_oidc_provider() as provider:
        app = make_app(CODEX_OIDC_ISSUER=provider.issuer)
        client = app.test_client()
        callback = provider.authorize(begin_sign_in(client), sub)
        provider.stop()

        response = client.get(callback)

    assert_refused(app, client, response, 503, UNREACHABLE, "provider unreachable")


def test_missing_discovery_document_is_a_misconfiguration(make_app, oidc_provider):
    app = make_app(CODEX_OIDC_ISSUER=f"{oidc_provider.issuer}/no-such-realm")
    client = app.test_client()

    response = client.get("/auth/oidc/login")

    assert_refused(app, client, response, 502, MISCONFIGURED, "HTTP 404")


@pytest.mark.parametrize("secret_is_right", [True, False])
def test_wrong_client_secret_is_a_misconfiguration(make_app, sub, secret_is_right):
    with running_oidc_provider(require_registration=True) as provider:
        client_id, secret = provider.register_client([CALLBACK_URL])
        app = make_app(
            CODEX_OIDC_ISSUER=provider.issuer,
            CODEX_OIDC_CLIENT_ID=client_id,
            CODEX_OIDC_CLIENT_SECRET=secret if secret_is_right else "not-the-secret",
        )
        client = app.test_client()

        response = sign_in(client, provider, sub)

    if secret_is_right:  # the control: this provider really checks the secret
        assert response.status_code == 303 and is_signed_in(client)
    else:
        assert_refused(app, client, response, 502, MISCONFIGURED, "invalid_client")


def test_provider_error_is_refused(app, client, oidc_provider):
    authorization_url = begin_sign_in(client)
    callback = oidc_provider.deny(authorization_url)
    assert "error=access_denied" in callback
    # This provider leaves state out of error replies; RFC 6749 (4.1.2.1) wants it back.
    callback = with_query(callback, state=query_params(authorization_url)["state"])

    response = client.get(callback)

    assert_refused(app, client, response, 403, "did not let you in", "access_denied")


def test_provider_error_without_state_is_shown_but_not_audited(app, client, oidc_provider):
    """Without state it can't be told from a forged link, so it is not audited."""
    callback = oidc_provider.deny(begin_sign_in(client))

    response = client.get(callback)

    assert response.status_code == 403
    assert "did not let you in" in response.get_data(as_text=True)
    assert failed_logins(app) == []


def assert_refused_quietly(app, client, response):
    """A callback that belongs to no sign-in of this browser: refused, nothing written.

    Anyone can send a browser there, so it is not audited (tests/security/test_11_small_leaks.py
    shows it signs nobody out either).
    """
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page
    assert "This sign-in attempt is not valid" in page and "Back to sign in" in page
    assert user_count(app) == 0
    assert not is_signed_in(client)
    assert failed_logins(app) == []


@pytest.mark.parametrize("state", ["forged-state", None])
def test_callback_with_forged_or_missing_state_is_refused(app, client, oidc_provider, sub, state):
    callback = oidc_provider.authorize(begin_sign_in(client), sub)

    response = client.get(with_query(callback, state=state))

    assert_refused_quietly(app, client, response)


def test_callback_from_another_browser_is_refused(app, oidc_provider, sub):
    """A callback only works in the browser session that started the sign-in."""
    victim, attacker = app.test_client(), app.test_client()
    callback = oidc_provider.authorize(begin_sign_in(attacker), sub)

    response = victim.get(callback)

    assert_refused_quietly(app, victim, response)


def test_replayed_callback_is_refused(app, client, oidc_provider, sub):
    callback = oidc_provider.authorize(begin_sign_in(client), sub)
    assert client.get(callback).status_code == 303
    sign_out(client)

    response = client.get(callback)

    assert response.status_code == 400
    assert not is_signed_in(client)


def test_id_token_with_another_nonce_is_refused(app, client, oidc_provider, sub):
    """The provider signs a token for a nonce this session never sent (a replayed token)."""
    url = with_query(begin_sign_in(client), nonce=f"injected-{uuid.uuid4().hex}")
    callback = oidc_provider.authorize(url, sub)

    response = client.get(callback)

    assert_refused(app, client, response, 401, "could not be verified", "nonce")


def test_disabled_user_is_refused(app, oidc_provider, sub):
    oidc_provider.set_user(sub, email=f"{sub}@example.com", name="Was Here")
    sign_in(app.test_client(), oidc_provider, sub)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.oidc_subject == sub))
        user.is_disabled = True
        db.session.commit()
        username, last_login = user.username, user.last_login_at
    oidc_provider.set_user(sub, email="changed@example.com", name="Changed")
    client = app.test_client()

    response = sign_in(client, oidc_provider, sub)

    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Your account is disabled" in page
    assert not is_signed_in(client)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.oidc_subject == sub))
        assert (user.email, user.display_name, user.last_login_at) == (
            f"{sub}@example.com", "Was Here", last_login
        )
        failed = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "login.failed")
        ).all()
    assert [(event.target, event.detail) for event in failed] == [
        (username, "method: oidc; account disabled")
    ]
