"""Session fixtures every lab-backed suite shares (registered in tests/conftest.py).

`kube` starts the lab when its API server does not answer; `lab` runs `scripts/lab up` (every
component, K8sGPT included) and `known_issues` also installs the known-issue charts; `planner`
runs the real offline planner on a free port; `lab_app_config` points an app at the lab and the
planner; `lab_user` makes users whose grants are synced into the lab's RBAC; `sign_in` gives a
client signed in as one of them.

The lab is left running at the end of the session (other sessions may share it; stop it with
`scripts/lab down`); set CODEX_LAB_STOP=1 to stop it after a session that started it.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support.lab_control import LAB_SCRIPT, UP_TIMEOUT, lab_is_running, run_lab
from tests.support.lab_kube import APP_KUBECONFIG, Kube, apiserver_ready
from tests.support.planner_process import PlannerProcess
from tests.support.users import lab_users


@pytest.fixture(scope="session")
def kube():
    """Admin access to the lab; starts it when its API server does not answer.

    Only the API server is required; a test that needs K8sGPT's own Results waits for them.
    """
    if not apiserver_ready():
        subprocess.run([str(LAB_SCRIPT), "up"], check=True, timeout=900)
    kube = Kube()
    yield kube
    kube.close()


@pytest.fixture(scope="session")
def lab():
    """The whole lab up (`scripts/lab up` is idempotent: it reuses a running lab), as its admin."""
    was_running = lab_is_running()
    run_lab("up", timeout=UP_TIMEOUT)
    handle = Kube()
    yield handle
    handle.close()
    if os.environ.get("CODEX_LAB_STOP") == "1" and not was_running:
        run_lab("down", timeout=120)


@pytest.fixture(scope="session")
def known_issues(lab):
    """The lab with the known-issue charts installed (helm upgrade --install, idempotent)."""
    run_lab("issues", "install", timeout=600)
    return lab


@pytest.fixture(scope="session")
def planner():
    """The offline planner answering at once (no artificial delay)."""
    with PlannerProcess("--delay-ms", "0") as process:
        yield process


@pytest.fixture
def lab_app_config(database_url, planner, kube):
    """App settings on the lab (as the app's own identity) with the offline planner, loose limits.

    A suite uses it by overriding ``app_config``: ``def app_config(lab_app_config): return ...``.
    """
    return {"SQLALCHEMY_DATABASE_URI": database_url, "CODEX_KUBECONFIG": str(APP_KUBECONFIG),
            "CODEX_LLM_BASE_URL": planner.base_url, "CODEX_LLM_TIMEOUT": 20,
            "CODEX_PLAN_MAX_CONCURRENT": 50, "CODEX_PLAN_MAX_PER_MINUTE": 500}


LAB_PASSWORD = "correct horse battery staple"


@pytest.fixture
def lab_user(app):
    """make(username, grants={ns: kinds}, admin=False) -> id, with RBAC synced into the lab."""
    with lab_users(app, LAB_PASSWORD) as make:
        yield make


@pytest.fixture
def sign_in(app):
    """sign_in(username) -> a test client signed in with the lab users' password."""

    def sign_in_as(username):
        client = app.test_client()
        response = client.submit("/login", {"username": username, "password": LAB_PASSWORD})
        assert response.status_code == 303, response.get_data(as_text=True)
        return client

    return sign_in_as
