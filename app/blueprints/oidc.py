"""Single sign-on views: send the browser to the provider, finish the code flow, explain a refusal.

The client, the provider round trips and the mapping of claims to users live in app.oidc; without
CODEX_OIDC_ISSUER every view here answers 404.
"""

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import logout_user

from app import oidc
from app.auth import audit, record_login
from app.extensions import db
from app.oidc import MISCONFIGURED, PROVIDER_REFUSED, SignInError
from app.web.urls import safe_next

bp = Blueprint("oidc", __name__, url_prefix="/auth/oidc")

_NEXT_KEY = "oidc_next"


def _settings():
    settings = oidc.settings()
    if settings is None:
        abort(404)
    return settings


@bp.get("/login")
def login():
    """Send the browser to the provider's sign-in page."""
    settings = _settings()
    with oidc.talking_to_provider():
        oidc.check_discovery(settings)
        response = settings.client.authorize_redirect(url_for(".callback", _external=True))
    session[_NEXT_KEY] = safe_next(request.args.get("next"))
    return response


@bp.get("/callback")
def callback():
    """Finish sign-in: check state, exchange the code, validate the ID token, log in."""
    settings = _settings()
    state = request.args.get("state")
    error = request.args.get("error")
    if not state or settings.client.framework.get_state_data(session, state) is None:
        # No sign-in of this browser to finish (some providers also leave state out of error
        # replies): say so, and nothing more.
        if error:
            return _error_page(403, PROVIDER_REFUSED)
        return _error_page(
            400,
            "This sign-in attempt is not valid (unknown or missing state). Please sign in again.",
        )
    if error:
        settings.client.framework.clear_state_data(session, state)
        said = f"{error}: {request.args.get('error_description', '')}"[:300]
        raise SignInError(403, PROVIDER_REFUSED, f"provider returned {said}".strip(" :"))
    with oidc.talking_to_provider():
        token = settings.client.authorize_access_token()
    claims = token.get("userinfo")
    if not claims:
        raise SignInError(502, MISCONFIGURED, "token response without an ID token")
    try:
        user, admin_changed = oidc.user_for_claims(claims, settings)
        next_url = session.get(_NEXT_KEY)
        session.clear()  # a fresh session: nothing from before the login survives
        record_login(user, "oidc")
        db.session.commit()
    except sa.exc.IntegrityError as exc:  # the same first login finishing twice at once
        raise SignInError(409, "Please sign in again.", "concurrent first login") from exc
    if admin_changed:
        oidc.sync_rbac(user)
    return redirect(next_url or url_for("issues.index"), 303)


@bp.errorhandler(SignInError)
def sign_in_failed(error):
    """Audit the refused sign-in and explain it; nothing else is written."""
    db.session.rollback()
    logout_user()
    session.pop(_NEXT_KEY, None)
    audit(None, "login.failed", error.target or "(oidc)", f"method: oidc; {error.reason}")
    db.session.commit()
    current_app.logger.warning("OIDC sign-in refused: %s", error.reason)
    return _error_page(error.status, error.message)


def _error_page(status, message):
    return render_template("oidc/error.html", message=message, status_code=status), status
