"""The layering the package names promise: the plan core, the Finding, redaction, the kind registry
and the resource tables import neither Flask nor the database, so they run (and are tested) without
an app, and a change to the web layer cannot reach them by accident."""

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
FLASK_FREE = sorted([*APP.glob("plans/core/*.py"), *APP.glob("resources/*.py"),
                     *(APP / "actions" / name for name in ("kubectl.py", "outcome.py", "diff.py")),
                     APP / "findings.py", APP / "redact.py", APP / "kinds.py", APP / "cluster" / "paths.py",
                     APP / "cluster" / "errors.py", APP / "plans" / "bus.py"])
FORBIDDEN = ("flask", "flask_login", "flask_sqlalchemy", "werkzeug", "sqlalchemy", "app.extensions",
             "app.models", "app.web", "app.blueprints", "app.cluster.gateway")


def _imports(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


@pytest.mark.parametrize("path", FLASK_FREE, ids=lambda p: str(p.relative_to(APP)))
def test_core_modules_import_neither_flask_nor_the_database(path):
    bad = [name for name in _imports(path) if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)]
    assert not bad, f"{path.relative_to(APP)} imports {bad}"
