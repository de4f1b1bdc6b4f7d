"""Fixtures for the OIDC login tests: a real provider process and apps pointed at it.

The app runs as the Flask test client on the suite's fresh database (SQLite and
PostgreSQL, see tests/conftest.py); the provider is a real HTTP server in its own
process (tests/support/oidc_provider.py).
"""

import uuid

import pytest

from tests.support.apps import app_factory
from tests.support.oidc_flow import CLIENT_ID


@pytest.fixture
def make_app(app_config):
    """Build apps with OIDC settings on this test's fresh, migrated database."""
    defaults = {"CODEX_OIDC_CLIENT_ID": CLIENT_ID, "CODEX_OIDC_CLIENT_SECRET": "test-secret", **app_config}
    with app_factory(defaults) as make:
        yield make


@pytest.fixture
def app(make_app, oidc_provider):
    """The app with single sign-on through the session's provider process."""
    return make_app(CODEX_OIDC_ISSUER=oidc_provider.issuer)


@pytest.fixture
def sub():
    """A subject no other test uses (the provider process is shared by the session)."""
    return f"user-{uuid.uuid4().hex[:10]}"
