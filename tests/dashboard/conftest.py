"""Lab-backed fixtures for the dashboard tests (shared with tests/resources)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from view_fixtures import admin, app, dev_a, login, make_user, world  # noqa: E402,F401
