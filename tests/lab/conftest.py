"""Session fixtures for tests that need the lab (a real kube-apiserver with RBAC, kwok nodes,
K8sGPT writing Results).

`lab` runs `scripts/lab up` (idempotent: reuses a running lab) and returns a `labkit.Lab` handle;
`known_issues` also runs `scripts/lab issues install` (helm upgrade --install, idempotent).
The lab is left running at the end of the session (other sessions may share it; stop it with
`scripts/lab down`); set CODEX_LAB_STOP=1 to stop it after the session when this session started it.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from labkit import LAB_SCRIPT, STATE, UP_TIMEOUT, Lab, run_lab


@pytest.fixture(scope="session")
def lab():
    was_running = subprocess.run([str(LAB_SCRIPT), "status"], capture_output=True, timeout=60).returncode == 0
    run_lab("up", timeout=UP_TIMEOUT)
    handle = Lab(state=STATE, kubeconfig=STATE / "kubeconfig", app_kubeconfig=STATE / "app.kubeconfig")
    yield handle
    handle.close()
    if os.environ.get("CODEX_LAB_STOP") == "1" and not was_running:
        run_lab("down", timeout=120)


@pytest.fixture(scope="session")
def known_issues(lab):
    run_lab("issues", "install", timeout=600)
    return lab
