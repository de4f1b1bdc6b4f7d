"""Lab-backed fixtures for the resource-tab tests: the dashboard's, reused."""

from tests.dashboard.view_fixtures import admin, app, dev_a, login, make_user, world  # noqa: F401
