"""Lab-backed fixtures for the resource-tab tests: the dashboard's, reused."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dashboard"))

from view_fixtures import admin, app, dev_a, login, make_user, world  # noqa: E402,F401
