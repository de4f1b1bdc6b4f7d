"""Cluster Codex: K8sGPT findings and fix plans, per user, per granted namespace."""

import logging
import os
import secrets
from pathlib import Path

from flask import Flask

from app.config import REPO_ROOT, Config
from app.extensions import csrf, db, login_manager, migrate, oauth

MIGRATIONS_DIR = str(REPO_ROOT / "migrations")
log = logging.getLogger(__name__)


def create_app(config=None):
    """Build the app: config, extensions, database schema, blueprints."""
    app = Flask(__name__, instance_path=os.environ.get("CODEX_INSTANCE_PATH") or None)
    app.config.from_object(config or Config)
    _fill_instance_defaults(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.unauthorized_handler(_unauthorized)
    csrf.init_app(app)
    oauth.init_app(app)

    # Services every request may use, one per app (tests build many apps in one process).
    from app import oidc, plans, result_store
    from app.cluster import gateway, rbac_sync

    gateway.init_app(app)
    rbac_sync.init_app(app)
    result_store.init_app(app)  # reads through the gateway
    plans.init_app(app)
    oidc.init_app(app)

    from app.web import current, errors, security_headers, templating

    current.init_app(app)  # the row cache
    errors.init_app(app)
    templating.init_app(app)
    security_headers.init_app(app)

    from app.blueprints import actions, admin, approvals, auth, health, issues
    from app.blueprints import oidc as oidc_views
    from app.blueprints import plans as plan_views
    from app.blueprints import resources as resource_views

    for blueprint in (auth.bp, oidc_views.bp, admin.bp, health.bp, issues.bp, resource_views.bp,
                      plan_views.bp, actions.bp, approvals.bp):
        app.register_blueprint(blueprint)
    from app import login_limits

    login_limits.init_app(app)  # after auth.bp: it wraps the sign-in view with its limits

    from app import cli

    cli.init_app(app)

    @app.after_request
    def _no_store_private_pages(response):
        # A signed-in user's pages must not come back from the HTTP or back-forward cache after
        # sign-out (back button). Responses that set their own policy (SSE) keep it.
        from flask import request
        from flask_login import current_user

        if (request.endpoint != "static" and current_user.is_authenticated
                and "Cache-Control" not in response.headers):
            response.headers["Cache-Control"] = "no-store"
        return response

    if app.config["CODEX_AUTO_MIGRATE"]:
        upgrade_database(app)
    return app


def _unauthorized():
    """Anonymous users go to the login page; htmx requests get a full-page redirect."""
    from flask import flash, make_response, redirect, request, url_for

    from app.web.htmx import is_htmx

    target = url_for("auth.login", next=request.full_path.rstrip("?"))
    if is_htmx():
        response = make_response("", 401)
        response.headers["HX-Redirect"] = target
        return response
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(target)


def upgrade_database(app):
    """Apply pending Alembic migrations (a no-op when the schema is current)."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        # Don't hand pooled connections to forked gunicorn workers.
        db.engine.dispose()


def _fill_instance_defaults(app):
    """SQLite file and secret key in instance/ when the environment names none."""
    instance = Path(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        instance.mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'codex.db'}"
    if not app.config.get("SECRET_KEY"):
        instance.mkdir(parents=True, exist_ok=True)
        key_file = instance / "secret_key"
        if not key_file.exists():
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
            log.warning("CODEX_SECRET_KEY not set: generated %s", key_file)
        app.config["SECRET_KEY"] = key_file.read_text().strip()

