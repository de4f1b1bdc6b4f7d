"""Fixtures for the actions tests: the app with a recording fake kubectl (no cluster), users with
view and change grants. The lab tests (test_lab_actions.py) override `app_config` with the real
lab and the real kubectl behind a recording wrapper."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests.actions.fakes import answering
from tests.support.apps import marked_settings
from tests.support.users import add_user

NS_A, NS_B = "team-a", "team-b"


def pytest_configure(config):
    config.addinivalue_line("markers", "actions_config(**settings): app settings for one actions test")


@pytest.fixture
def kubectl_fake(tmp_path):
    """The kubectl the app starts: answers `ok`, exit 0, and records every start."""
    return answering(tmp_path / "fake", stdout="ok\n")


@pytest.fixture
def app_config(request, database_url, unreachable_kubeconfig, kubectl_fake):
    """The app with the fake kubectl and an unreachable cluster; @actions_config overrides."""
    return marked_settings(request, "actions_config", {
        "SQLALCHEMY_DATABASE_URI": database_url, "CODEX_KUBECONFIG": unreachable_kubeconfig,
        "CODEX_KUBECTL": str(kubectl_fake.path), "CODEX_ACTIONS_PER_MINUTE": 1000})


@pytest.fixture
def user(app):
    """make(username, grants={ns: kinds}, changes={ns: kinds}, admin=False) -> user id."""

    def make(username, grants=None, changes=None, admin=False):
        with app.app_context():
            user_id = add_user(username, grants=grants, changes=changes, admin=admin, grant_state="synced")
            db.session.remove()
            return user_id

    return make


@pytest.fixture
def changer(user):
    """A user who may change deployments and configmaps in team-a (and see pods there)."""
    return user("changer", grants={NS_A: {"pods"}}, changes={NS_A: {"deployments", "configmaps"}})
