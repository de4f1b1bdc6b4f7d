"""Fixtures the security tests share: apps with settings of their own, a client from elsewhere,
a real Redis and a real OIDC provider (each started once per session, when a test needs it)."""

import pytest

from tests.support.apps import app_factory


@pytest.fixture
def remote():
    """environ_base for a client that is not on this host (the test client is 127.0.0.1)."""
    return {"REMOTE_ADDR": "203.0.113.9"}  # TEST-NET-3, RFC 5737


@pytest.fixture
def make_app(app, app_config):
    """Build more apps on this test's fresh database: make_app(CODEX_SOMETHING=...).

    They share the database with `app` (and so with make_user) and its test client class.
    """
    with app_factory(app_config, client_class=app.test_client_class) as make:
        yield make
