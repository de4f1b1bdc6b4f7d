"""Shared fixtures: the app on SQLite and on a real PostgreSQL, clients, users, login.

Every test that uses `app` runs once per database engine named by --db
(default: both). PostgreSQL is Debian's server, started here in a temporary
directory on a free port (unix socket only) and stopped at the end of the session.
"""

from __future__ import annotations

import re
import shutil

import pytest
from flask.testing import FlaskClient

from tests.support.apps import app_factory, build_app, close_app
from tests.support.lab_kube import write_unreachable_kubeconfig
from tests.support.postgres_server import PostgresServer
from tests.support.users import add_user

# Session fixtures shared by every suite: the lab (kube, lab, planner, lab_user, ...) and the
# OIDC provider process.
pytest_plugins = ["tests.support.lab_fixtures", "tests.support.oidc_provider", "tests.support.redis_server",
                  "tests.support.llama_server"]

PASSWORD = "correct horse battery staple"
ENGINES = ("sqlite", "postgres")


def pytest_addoption(parser):
    parser.addoption("--db", default="sqlite,postgres",
                     help="database engines for tests using the `app` fixture: sqlite, postgres "
                          "or both, comma-separated (default: both)")


def pytest_configure(config):
    config.addinivalue_line("markers", "db_engines(*names): run this test only on these engines")


def pytest_generate_tests(metafunc):
    if "db_engine" not in metafunc.fixturenames:
        return
    chosen = [e.strip() for e in metafunc.config.getoption("--db").split(",") if e.strip()]
    unknown = set(chosen) - set(ENGINES)
    if unknown:
        raise pytest.UsageError(f"--db: unknown engines {sorted(unknown)}")
    marker = metafunc.definition.get_closest_marker("db_engines")
    if marker:
        chosen = [e for e in chosen if e in marker.args] or [marker.args[0]]
    metafunc.parametrize("db_engine", chosen, indirect=True, scope="function")


@pytest.fixture
def db_engine(request):
    return request.param


# -- PostgreSQL ---------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server():
    """A running PostgreSQL server for this test session."""
    server = PostgresServer().start()
    yield server
    server.stop()


def _migrated(url):
    """Run every migration on an empty database, via create_app like production does."""
    close_app(build_app({"SQLALCHEMY_DATABASE_URI": url}))


@pytest.fixture(scope="session")
def postgres_template(postgres_server):
    """Name of a database with all migrations applied, copied for each test."""
    postgres_server.execute("CREATE DATABASE codex_template")
    _migrated(postgres_server.url("codex_template"))
    return "codex_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    _migrated(f"sqlite:///{path}")
    return path


@pytest.fixture
def database_url(request, db_engine, tmp_path):
    """A fresh, migrated database for one test."""
    if db_engine == "sqlite":
        path = tmp_path / "codex.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("postgres_template")
    name = server.new_database_name()
    server.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    yield server.url(name)
    server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# -- the app --------------------------------------------------------------------


@pytest.fixture(scope="session")
def unreachable_kubeconfig(tmp_path_factory):
    """A kubeconfig whose API server refuses connections (nothing listens on the port)."""
    return str(write_unreachable_kubeconfig(tmp_path_factory.mktemp("kube") / "unreachable.kubeconfig"))


@pytest.fixture
def app_config(database_url, unreachable_kubeconfig):
    """Settings for `app`; override this fixture to change them (the cluster is unreachable)."""
    return {"SQLALCHEMY_DATABASE_URI": database_url, "CODEX_KUBECONFIG": unreachable_kubeconfig}


@pytest.fixture
def app(app_config):
    """The app on a fresh database (one run per engine); CSRF protection stays on."""
    with app_factory(app_config, client_class=CodexClient) as make:
        yield make()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class CodexClient(FlaskClient):
    """A test client that can fetch a CSRF token and submit forms with it."""

    def csrf_token(self):
        # Any page carries the token in <meta name="csrf-token">; a 404 page is the cheapest.
        page = self.get("/__csrf-token__").get_data(as_text=True)
        match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
        assert match, "no csrf-token meta tag in the page"
        return match.group(1)

    def submit(self, url, data=None, htmx=False, **kwargs):
        """POST a form with a valid CSRF token (as htmx when asked)."""
        data = dict(data or {})
        headers = dict(kwargs.pop("headers", {}))
        token = self.csrf_token()
        if htmx:
            headers.update({"HX-Request": "true", "X-CSRFToken": token})
        else:
            data.setdefault("csrf_token", token)
        return self.post(url, data=data, headers=headers, **kwargs)


@pytest.fixture
def make_user(app):
    """Create a user: make_user("ann", admin=True, grants={"team-a": {"pods"}})."""

    def make(username, password=PASSWORD, admin=False, disabled=False, grants=None, **fields):
        with app.app_context():
            return add_user(username, password=password, admin=admin, is_disabled=disabled,
                            grants=grants, grant_state="synced", **fields)

    return make


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, username="admin", password=PASSWORD):
        return self.client.submit("/login", {"username": username, "password": password})

    def logout(self):
        return self.client.submit("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)
