"""Local sign-in and sign-out."""

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_limiter import RateLimitExceeded
from flask_login import current_user, logout_user

from app import login_limits, oidc, sessions
from app.auth import audit, record_login, user_with_password
from app.extensions import db, login_manager
from app.models import User
from app.web.htmx import render
from app.web.urls import safe_next

bp = Blueprint("auth", __name__)

BAD_CREDENTIALS = "Invalid username or password."
DISABLED = "This account is disabled. Ask an administrator to re-enable it."
TOO_MANY = "Too many sign-in attempts. Please wait and try again in {wait}."


@login_manager.user_loader
def load_user(user_id):
    """Load the session's user; a disabled user's, an outdated or too old session ends at once."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or user.is_disabled or not sessions.is_valid(user):
        return None
    return user


def _login_page(status=200, error=None, username=""):
    return render("auth/login.html", block="login_card", status=status, error=error,
                  username=username, next=safe_next(request.values.get("next")),
                  oidc_enabled=oidc.settings() is not None)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form; check a local username and password."""
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("issues.index"))
        return _login_page()
    username = request.form.get("username", "").strip()
    user = user_with_password(username, request.form.get("password", ""))
    if user is None:
        audit(None, "login.failed", username[:150] or "(empty)", "method: local; bad credentials")
        db.session.commit()
        return _login_page(401, BAD_CREDENTIALS, username)
    if user.is_disabled:
        audit(None, "login.failed", user.username, "method: local; account disabled")
        db.session.commit()
        return _login_page(403, DISABLED, username)
    next_url = safe_next(request.form.get("next"))
    session.clear()  # a fresh session: nothing from before the login survives
    record_login(user, "local")
    db.session.commit()
    return redirect(next_url or url_for("issues.index"), 303)


@bp.errorhandler(RateLimitExceeded)
def too_many_attempts(error):
    """Refuse a throttled sign-in: the form again, how long to wait, and Retry-After."""
    wait = login_limits.retry_after()
    message = TOO_MANY.format(wait="1 second" if wait == 1 else f"{wait} seconds")
    response = _login_page(429, message, request.form.get("username", "").strip())
    response.headers["Retry-After"] = str(wait)
    return response


@bp.post("/logout")
def logout():
    """End the session, and with it every other session of the same user."""
    if current_user.is_authenticated:
        audit(current_user, "logout", current_user.username)
        sessions.end_all(current_user)
        db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"), 303)
