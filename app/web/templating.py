"""Jinja globals shared by every template."""

from flask import current_app, url_for
from werkzeug.routing import BuildError

from app.access import KINDS, is_admin, kind_label


def endpoint_url(endpoint, **values):
    """url_for(endpoint) when that endpoint is registered, else None (features still to come)."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:  # the endpoint needs arguments we don't have
        return None


def init_app(app):
    app.jinja_env.globals.update(
        endpoint_url=endpoint_url, kind_label=kind_label, KINDS=KINDS, is_admin=is_admin,
    )
    app.jinja_env.filters["kind_label_filter"] = kind_label
    app.jinja_env.filters["datetime"] = lambda value: value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""
