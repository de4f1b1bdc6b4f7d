"""Apps the tests build on TestConfig, and closing what each opened (its cluster connections,
database session and pool), so no test leaves a connection behind for the next one.

    with app_factory({"SQLALCHEMY_DATABASE_URI": url}) as make:
        app = make(CODEX_OIDC_ISSUER=issuer)
"""

from __future__ import annotations

from contextlib import contextmanager

from app import create_app
from app.config import TestConfig
from app.extensions import db


def build_app(settings: dict, base: type = TestConfig, client_class=None):
    """create_app on a subclass of `base` holding `settings`; CSRF protection stays on."""
    app = create_app(type(f"{base.__name__}WithSettings", (base,), dict(settings)))
    if client_class is not None:
        app.test_client_class = client_class
    return app


def close_app(app) -> None:
    """Stop the app's plan workers; close its cluster connections, database session and pool."""
    from app.cluster.gateway import gateway
    from app.plans import shutdown
    from app.result_store import WATCH_KEY

    shutdown(app)
    if WATCH_KEY in app.extensions:  # the Results watch thread ends at its next change
        app.extensions[WATCH_KEY].set()
    with app.app_context():
        gateway().close()
        db.session.remove()
        db.engine.dispose()


@contextmanager
def app_factory(defaults: dict, client_class=None):
    """Yield make(**settings) -> a new app (settings over `defaults`); close them all at exit."""
    made = []

    def make(**settings):
        made.append(build_app({**defaults, **settings}, client_class=client_class))
        return made[-1]

    try:
        yield make
    finally:
        for app in made:
            close_app(app)


def marked_settings(request, marker: str, settings: dict) -> dict:
    """`settings` with the keyword arguments of the test's closest `marker` on top, e.g.
    ``@pytest.mark.plan_config(CODEX_ACTIONS=False)``."""
    found = request.node.get_closest_marker(marker)
    return {**settings, **(found.kwargs if found else {})}
