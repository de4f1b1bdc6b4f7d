"""Fixtures for the planning tests: the real offline planner process and model clients on it."""

import pytest

from app.plans.core.model_client import ModelClient, ModelSettings
from tests.plans_core.planning_helpers import PLANNER_KEY
from tests.support.planner_process import PlannerProcess

# `planner` (the offline planner answering at once) is the session fixture of
# tests/support/lab_fixtures.py.


@pytest.fixture(scope="session")
def keyed_planner():
    """A planner that demands an API key, like a hosted model server."""
    with PlannerProcess("--delay-ms", "0", "--require-key", PLANNER_KEY) as process:
        yield process


@pytest.fixture
def settings(planner):
    return ModelSettings(base_url=planner.base_url, timeout=20)


@pytest.fixture
def model(settings):
    client = ModelClient(settings)
    yield client
    client.close()


@pytest.fixture
def make_model():
    """Build model clients with other settings; all are closed after the test."""
    clients = []

    def make(**overrides):
        client = ModelClient(ModelSettings(**overrides))
        clients.append(client)
        return client
    yield make
    for client in clients:
        client.close()
