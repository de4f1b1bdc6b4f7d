"""Local sign-in and sign-out."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

from app.auth import audit, record_login
from app.extensions import db, login_manager
from app.htmx import render
from app.models import User

bp = Blueprint("auth", __name__)

BAD_CREDENTIALS = "Invalid username or password."
DISABLED = "This account is disabled. Ask an administrator to re-enable it."


@login_manager.user_loader
def load_user(user_id):
    """Load the session's user; a disabled user's session ends at once."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and not user.is_disabled else None


def safe_next(target):
    """Keep only same-site paths as the post-login destination."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def _login_page(status=200, error=None, username=""):
    return render("auth/login.html", status=status, error=error, username=username,
                  next=safe_next(request.values.get("next")),
                  oidc_enabled=bool(current_app.config.get("CODEX_OIDC_ISSUER"))
                  and "oidc.login" in current_app.view_functions)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form; check a local username and password."""
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("index"))
        return _login_page()
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    user = db.session.scalar(sa.select(User).where(User.username == username)) if username else None
    if user is None or not user.check_password(password):
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
    return redirect(next_url or url_for("index"), 303)


@bp.post("/logout")
def logout():
    """End the session."""
    if current_user.is_authenticated:
        audit(current_user, "logout", current_user.username)
        db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"), 303)


def index():
    """The home page until the issue dashboard exists: send people somewhere useful."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if current_user.is_admin:
        return redirect(url_for("admin.users"))
    return render("auth/home.html")
