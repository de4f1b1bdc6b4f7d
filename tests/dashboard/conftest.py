"""Lab-backed fixtures for the dashboard tests (shared with tests/resources)."""

from tests.dashboard.view_fixtures import admin, app, dev_a, login, make_user, world  # noqa: F401
