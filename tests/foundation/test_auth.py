"""Local sign-in, sign-out, session lifetime, CSRF."""

import time

import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner

from app.extensions import db
from app.models import AuditEvent, User

PASSWORD = "correct horse battery staple"


def _audit_actions(app):
    with app.app_context():
        return [(e.action, e.target) for e in
                db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]


def test_login_page_renders_without_sso_link(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert b'name="csrf_token"' in page.data
    assert b"Sign in with SSO" not in page.data


def test_login_with_right_password_starts_a_session(app, client, auth, make_user):
    make_user("ann")
    response = auth.login("ann")
    assert response.status_code == 303
    assert client.get("/").status_code in (200, 302)  # signed in: no redirect to the login page
    page = client.get("/", follow_redirects=True)
    assert b"Sign out" in page.data and b"ann" in page.data
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.username == "ann")).last_login_at
    assert ("login", "ann") in _audit_actions(app)


def test_password_is_stored_as_a_scrypt_hash(app, make_user):
    uid = make_user("ann")
    with app.app_context():
        stored = db.session.get(User, uid).password_hash
    assert stored.startswith("scrypt:") and PASSWORD not in stored


@pytest.mark.parametrize("username, password", [
    ("ann", "wrong password"),
    ("nobody", PASSWORD),
    ("", ""),
])
def test_bad_credentials_get_one_generic_message(app, client, auth, make_user, username, password):
    make_user("ann")
    response = auth.login(username, password)
    assert response.status_code == 401
    assert b"Invalid username or password." in response.data
    assert b"Sign out" not in response.data
    assert ("login.failed", username or "(empty)") in _audit_actions(app)


def test_sso_only_user_cannot_use_a_password(client, auth, make_user):
    make_user("sso", password=None, oidc_issuer="https://idp.example", oidc_subject="42")
    assert auth.login("sso", "").status_code == 401


def test_disabled_user_is_told_so(app, auth, make_user):
    make_user("ann", disabled=True)
    response = auth.login("ann")
    assert response.status_code == 403
    assert b"This account is disabled" in response.data
    assert ("login.failed", "ann") in _audit_actions(app)


def test_disabled_user_with_wrong_password_learns_nothing(auth, make_user):
    make_user("ann", disabled=True)
    response = auth.login("ann", "wrong")
    assert response.status_code == 401
    assert b"disabled" not in response.data


def test_disabling_ends_an_open_session(app, client, auth, make_user):
    uid = make_user("ann")
    auth.login("ann")
    with app.app_context():
        db.session.get(User, uid).is_disabled = True
        db.session.commit()
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_logout_ends_the_session(app, client, auth, make_user):
    make_user("ann", admin=True)
    auth.login("ann")
    assert client.get("/admin/users").status_code == 200
    response = auth.logout()
    assert response.status_code == 303 and response.headers["Location"].endswith("/login")
    assert client.get("/admin/users").status_code == 302
    assert ("logout", "ann") in _audit_actions(app)


def test_logout_needs_a_post(client):
    assert client.get("/logout").status_code == 405


def test_expired_session_is_refused(app, client, auth, make_user):
    make_user("ann", admin=True)
    auth.login("ann")
    assert client.get("/admin/users").status_code == 200
    # Re-sign the current session with a timestamp older than the session lifetime.
    cookie = client.get_cookie("session")
    serializer = app.session_interface.get_signing_serializer(app)
    data = serializer.loads(cookie.value)
    age = int(app.permanent_session_lifetime.total_seconds()) + 60
    class SignedLongAgo(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - age

    serializer.signer = SignedLongAgo
    client.set_cookie("session", serializer.dumps(data))
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_session_cookie_is_httponly_and_lax(client, auth, make_user):
    make_user("ann")
    header = auth.login("ann").headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header


def test_login_redirects_to_a_local_next_only(client, make_user):
    make_user("ann")
    form = {"username": "ann", "password": PASSWORD}
    response = client.submit("/login", {**form, "next": "/admin/audit"})
    assert response.headers["Location"] == "/admin/audit"
    client.submit("/logout")
    response = client.submit("/login", {**form, "next": "https://evil.example/"})
    assert "evil" not in response.headers["Location"]
    client.submit("/logout")
    response = client.submit("/login", {**form, "next": "//evil.example/"})
    assert "evil" not in response.headers["Location"]


def test_form_without_csrf_token_is_rejected(app, client, make_user):
    make_user("ann")
    response = client.post("/login", data={"username": "ann", "password": PASSWORD})
    assert response.status_code == 400
    assert b"<html" in response.data and b"Reload the page" in response.data
    assert ("login", "ann") not in _audit_actions(app)


def test_htmx_request_with_bad_csrf_header_gets_a_fragment(client, auth, make_user):
    make_user("ann", admin=True)
    auth.login("ann")
    response = client.post("/admin/users", data={"username": "x"},
                           headers={"HX-Request": "true", "X-CSRFToken": "forged"})
    assert response.status_code == 400
    assert b"<html" not in response.data and b"Reload the page" in response.data


def test_htmx_request_with_csrf_header_is_accepted(client, auth, make_user):
    make_user("ann", admin=True)
    auth.login("ann")
    response = client.submit("/admin/users", {"username": "bob", "password": "long enough pw",
                                              "password_confirm": "long enough pw"}, htmx=True)
    assert response.status_code == 303


def test_sso_link_shows_when_oidc_is_configured(client, tmp_path):
    from app import create_app
    from app.config import TestConfig

    assert b"Sign in with SSO" not in client.get("/login").data
    assert client.get("/auth/oidc/login").status_code == 404  # not configured: no such page

    class WithSso(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'sso.db'}"
        CODEX_OIDC_ISSUER = "https://idp.example"
        CODEX_OIDC_CLIENT_ID = "codex"

    page = create_app(WithSso).test_client().get("/login")  # the provider is only asked on click
    assert b"Sign in with SSO" in page.data and b"/auth/oidc/login" in page.data


def test_anonymous_htmx_request_is_sent_to_login_with_hx_redirect(client):
    response = client.get("/admin/users", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")
