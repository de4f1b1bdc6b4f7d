"""Resource tables and detail views: cells per kind, paging over the API, safe YAML.

`init_app` gives each app its one `RowCache` of listed rows (reused for CODEX_LIST_CACHE_TTL
seconds, keyed by the identity they were read as).
"""

from flask import current_app

from app.resources.listing import RowCache

EXTENSION_KEY = "codex_row_cache"


def init_app(app):
    app.extensions[EXTENSION_KEY] = RowCache(ttl=app.config["CODEX_LIST_CACHE_TTL"])


def row_cache() -> RowCache:
    """The current app's cache of listed rows."""
    return current_app.extensions[EXTENSION_KEY]
