"""Fixtures for the planning tests: the real offline planner process and model clients on it."""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "support"))
sys.path.insert(0, str(HERE))

from planner_process import PlannerProcess  # noqa: E402
from planning_helpers import PLANNER_KEY  # noqa: E402

from app.plans.core.model_client import ModelClient, ModelSettings  # noqa: E402



@pytest.fixture(scope="session")
def planner():
    with PlannerProcess("--delay-ms", "0") as process:
        yield process


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
