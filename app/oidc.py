"""Single sign-on through an OpenID Connect provider (Authlib client, code flow + PKCE).

Identity is the pair (issuer, subject) from a validated ID token; email and name are
refreshed from the token at every login, the username is chosen once at first login.
When CODEX_ADMIN_GROUP is set, the provider's groups claim is authoritative for OIDC
users: a login inside the group makes the user an administrator, a login outside it
takes administrator rights away (audited). Without CODEX_ADMIN_GROUP, OIDC logins never
change is_admin. A change of admin status is pushed to cluster RBAC at that login (a failure
leaves it pending for the next sync, it never stops the login). Local accounts are never
linked to OIDC identities (not even by email).

A callback whose state matches no sign-in this browser started gets an error page and
nothing else: anyone can send a browser there, so it must not sign anyone out or write
the audit log.
"""

import hashlib
import re
from contextlib import contextmanager
from dataclasses import dataclass

import requests
import sqlalchemy as sa
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App
from flask import current_app
from joserfc.errors import JoseError

from app.auth import audit
from app.cluster import rbac_sync
from app.cluster.gateway import ClusterError
from app.extensions import db
from app.models import User

EXTENSION_KEY = "codex.oidc"
_USERNAME_MAX = 150


@dataclass(frozen=True)
class OidcSettings:
    """What the views need, kept in app.extensions (one client per app)."""

    client: FlaskOAuth2App
    issuer: str
    groups_claim: str
    admin_group: str | None


class SignInError(Exception):
    """A sign-in that must stop here, with the status and message the user sees."""

    def __init__(self, status, message, reason, *, target=None):
        super().__init__(reason)
        self.status = status
        self.message = message
        self.reason = reason
        self.target = target


def init_app(app):
    """Set up the OIDC client when CODEX_OIDC_ISSUER is set (the views answer 404 otherwise)."""
    issuer = (app.config["CODEX_OIDC_ISSUER"] or "").rstrip("/")
    if not issuer:
        return
    client_id = app.config["CODEX_OIDC_CLIENT_ID"]
    scopes = app.config["CODEX_OIDC_SCOPES"]
    if not client_id:
        raise RuntimeError("CODEX_OIDC_ISSUER is set but CODEX_OIDC_CLIENT_ID is not")
    if "openid" not in scopes.split():
        raise RuntimeError("CODEX_OIDC_SCOPES must include 'openid'")
    secret = app.config["CODEX_OIDC_CLIENT_SECRET"]
    client_kwargs = {
        "scope": scopes,
        "code_challenge_method": "S256",
        "default_timeout": float(app.config["CODEX_OIDC_TIMEOUT"]),
    }
    if not secret:
        client_kwargs["token_endpoint_auth_method"] = "none"  # a public client, PKCE only
    # Built directly rather than through the shared OAuth registry, which caches one
    # client per name process-wide: every app (and every test app) gets its own.
    client = FlaskOAuth2App(
        FlaskIntegration("oidc"),
        "oidc",
        client_id=client_id,
        client_secret=secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs=client_kwargs,
    )
    app.extensions[EXTENSION_KEY] = OidcSettings(
        client=client,
        issuer=issuer,
        groups_claim=app.config["CODEX_OIDC_GROUPS_CLAIM"],
        admin_group=app.config["CODEX_ADMIN_GROUP"] or None,
    )


def settings():
    """This app's OIDC settings, or None when single sign-on is not configured."""
    return current_app.extensions.get(EXTENSION_KEY)


def sync_rbac(user):
    """Push the user's changed admin status to cluster RBAC; on failure it stays pending."""
    try:
        rbac_sync.sync_user(user)  # records Unavailable as pending itself, then raises it
    except ClusterError as exc:
        current_app.logger.warning("RBAC sync after SSO login of %s postponed: %s",
                                   user.username, exc.message)
    except Exception:  # the login is done; user.rbac_pending stays set for the next sync
        db.session.rollback()
        current_app.logger.exception("RBAC sync after SSO login of %s failed", user.username)


PROVIDER_REFUSED = ("The sign-in provider did not let you in. Try again, or ask your "
                     "administrator for access.")
UNREACHABLE = "The sign-in provider can't be reached. Please try again in a few minutes."
MISCONFIGURED = (
    "Single sign-on is not set up correctly, so you can't sign in with it right now. "
    "Please tell your administrator."
)


@contextmanager
def talking_to_provider():
    """Turn failures of the provider round trips into SignInError."""
    try:
        yield
    except (requests.ConnectionError, requests.Timeout) as exc:
        reason = f"provider unreachable: {type(exc).__name__}"
        raise SignInError(503, UNREACHABLE, reason) from exc
    except requests.HTTPError as exc:
        reply = exc.response
        where = f"HTTP {reply.status_code} for {reply.url}" if reply is not None else exc
        raise SignInError(502, MISCONFIGURED, f"provider answered {where}") from exc
    except MismatchingStateError as exc:
        raise SignInError(
            400, "This sign-in attempt is not valid. Please sign in again.", "state mismatch"
        ) from exc
    except OAuthError as exc:
        if exc.error in {"invalid_client", "unauthorized_client"}:
            raise SignInError(502, MISCONFIGURED, f"token endpoint: {exc.error}") from exc
        raise SignInError(
            401,
            "The sign-in provider did not confirm your sign-in. Please sign in again.",
            f"token endpoint: {exc.error} {exc.description or ''}".strip(),
        ) from exc
    except JoseError as exc:
        raise SignInError(
            401,
            "The sign-in response could not be verified. Please sign in again.",
            f"ID token rejected: {exc.error} {exc.description or ''}".strip(),
        ) from exc
    except ValueError as exc:  # a reply that is not the JSON the protocol promises
        raise SignInError(502, MISCONFIGURED, f"unreadable provider response: {exc}") from exc


def check_discovery(settings):
    """Load the discovery document and insist it describes the configured issuer."""
    metadata = settings.client.load_server_metadata()
    if metadata.get("issuer", "").rstrip("/") != settings.issuer:
        raise SignInError(
            502,
            MISCONFIGURED,
            f"discovery names issuer {metadata.get('issuer')!r}, expected {settings.issuer!r}",
        )


def user_for_claims(claims, settings):
    """Find or create the user for validated ID token claims; apply email, name, groups.

    Returns (user, whether the login changed the user's admin status).
    """
    issuer, subject = claims["iss"], claims["sub"]
    user = db.session.scalar(
        sa.select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)
    )
    if user is not None and user.is_disabled:
        raise SignInError(
            403,
            "Your account is disabled. Ask an administrator to re-enable it.",
            "account disabled",
            target=user.username,
        )
    if user is None:
        user = User(username=_unique_username(claims), oidc_issuer=issuer, oidc_subject=subject)
        db.session.add(user)
        db.session.flush()
        audit(user, "user.create", user.username, f"first OIDC login ({issuer}, sub {subject})")
    if claims.get("email"):
        user.email = str(claims["email"])[:320]
    if claims.get("name"):
        user.display_name = str(claims["name"])[:200]
    admin_changed = settings.admin_group is not None and _apply_admin_group(
        user, _groups(claims, settings.groups_claim), settings.admin_group)
    return user, admin_changed


def _apply_admin_group(user, groups, admin_group):
    """Make admin status follow membership of the admin group; True when it changed (audited)."""
    should_be_admin = admin_group in groups
    if user.is_admin == should_be_admin:
        return False
    user.is_admin = should_be_admin
    user.rbac_pending = True  # until the sync after this login (or a later one) succeeds
    action = "user.promote" if should_be_admin else "user.demote"
    verb = "member" if should_be_admin else "no longer a member"
    audit(user, action, user.username, f"{verb} of OIDC group {admin_group!r}")
    return True


def _groups(claims, claim_name):
    """Return the groups claim as a set of names (a list, or one string)."""
    value = claims.get(claim_name)
    if isinstance(value, str):
        return {value}
    if isinstance(value, (list, tuple)):
        return {str(item) for item in value}
    return set()


def _unique_username(claims):
    """Derive a username from preferred_username or email, suffixed until it is free."""
    wanted = claims.get("preferred_username") or (claims.get("email") or "").split("@")[0]
    base = re.sub(r"[^a-z0-9._-]+", "-", str(wanted).lower()).strip("-._")
    if not base:
        identity = f"{claims['iss']} {claims['sub']}".encode()
        base = "user-" + hashlib.sha256(identity).hexdigest()[:8]
    base = base[: _USERNAME_MAX - 6]
    candidate, n = base, 1
    while db.session.scalar(sa.select(User.id).where(User.username == candidate)) is not None:
        n += 1
        candidate = f"{base}-{n}"
    return candidate
