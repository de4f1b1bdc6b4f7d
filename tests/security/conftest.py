"""Fixtures the security tests share: apps with settings of their own, a client from elsewhere,
a real Redis and a real OIDC provider (each started once per session, when a test needs it)."""

import pytest

from app import create_app
from app.config import TestConfig
from app.extensions import db
from tests.support.redis_server import RedisServer


@pytest.fixture
def remote():
    """environ_base for a client that is not on this host (the test client is 127.0.0.1)."""
    return {"REMOTE_ADDR": "203.0.113.9"}  # TEST-NET-3, RFC 5737


@pytest.fixture
def make_app(app, app_config):
    """Build more apps on this test's fresh database: make_app(CODEX_SOMETHING=...).

    They share the database with `app` (and so with make_user) and its test client class.
    """
    made = []

    def make(**settings):
        other = create_app(type("SecurityTestConfig", (TestConfig,), {**app_config, **settings}))
        other.test_client_class = app.test_client_class
        made.append(other)
        return other

    yield make
    from app.cluster.gateway import gateway

    for other in made:
        with other.app_context():
            gateway().close()
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def redis_server():
    """Debian's redis-server for this session; tests use redis_url for an empty database."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server):
    """The URL of an emptied Redis database."""
    with redis_server.client() as client:
        client.flushdb()
    return redis_server.url()
