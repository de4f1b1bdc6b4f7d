"""Error pages: HTTP errors, CSRF failures and cluster errors, htmx-aware."""

from flask import g, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from app.cluster.gateway import Forbidden, NotFound, Unavailable
from app.extensions import db, login_manager
from app.web.htmx import render

TITLES = {
    400: "Bad request",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Cluster unavailable",
}
DATABASE_DOWN = "Database unavailable"


def error_page(status, message, since=None, title=None):
    """Render the error page (or its fragment for htmx) with the given status."""
    return render(
        "errors/error.html", block="error", status=status,
        title=title or TITLES.get(status, "Error"), message=message, status_code=status, since=since,
    )


def init_app(app):
    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return error_page(400, "Your form expired or was not sent from this site. "
                               "Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code is None or error.code < 400:
            return error
        return error_page(error.code, error.description)

    @app.errorhandler(Unavailable)
    def cluster_unavailable(error):
        return error_page(503, f"The Kubernetes API server cannot be reached: {error.message}",
                          since=error.since)

    @app.errorhandler(NotFound)
    def cluster_not_found(error):
        return error_page(404, "That object does not exist or you may not see it.")

    @app.errorhandler(Forbidden)
    def cluster_forbidden(error):
        return error_page(403, "The cluster refused this request for your account.")

    @app.errorhandler(sa_exc.OperationalError)
    def database_unavailable(error):
        # Connection refused or dropped (a restart), or SQLite busy: the transaction was rolled back.
        # The page is rendered as for a visitor: loading the signed-in user would ask the database again.
        db.session.rollback()
        g._login_user = login_manager.anonymous_user()
        app.logger.warning("database unavailable on %s %s: %s", request.method, request.path,
                           str(error).splitlines()[0][:200])
        return error_page(503, "The database cannot be reached just now. Try again in a moment.",
                          title=DATABASE_DOWN)

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        app.logger.error("500 on %s %s", request.method, request.path)
        return error_page(500, "The server hit an unexpected error. It has been logged.")
