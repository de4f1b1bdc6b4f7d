"""Fixtures for the OIDC login tests: a real provider process and apps pointed at it.

The app runs as the Flask test client; the provider is a real HTTP server in its own
process. A test starts sign-in at the app, performs the provider's authorization step
over real HTTP, then feeds the provider's redirect back to the test client.
"""

import sys
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from app import create_app  # noqa: E402
from app.config import TestConfig  # noqa: E402
from app.extensions import db  # noqa: E402
from tests.support.oidc_flow import CLIENT_ID  # noqa: E402
from tests.support.oidc_provider import oidc_provider  # noqa: E402,F401


@pytest.fixture
def make_app():
    """Build apps with OIDC settings on top of TestConfig (fresh in-memory database each)."""
    apps = []

    def make(**settings):
        values = {"CODEX_OIDC_CLIENT_ID": CLIENT_ID, "CODEX_OIDC_CLIENT_SECRET": "test-secret"}
        values.update(settings)
        app = create_app(type("OidcTestConfig", (TestConfig,), values))
        with app.app_context():
            db.create_all()
        apps.append(app)
        return app

    yield make
    for app in apps:
        gateway = app.extensions.get("codex_gateway")
        if gateway is not None:
            gateway.close()


@pytest.fixture
def app(make_app, oidc_provider):
    return make_app(CODEX_OIDC_ISSUER=oidc_provider.issuer)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def sub():
    """A subject no other test uses (the provider process is shared by the session)."""
    return f"user-{uuid.uuid4().hex[:10]}"
