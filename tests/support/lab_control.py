"""Driving the lab from tests: `scripts/lab` with a bound, the lab's own control package
(lab/labctl) for what the script does not offer, and polling with a deadline."""

from __future__ import annotations

import importlib
import subprocess
import sys
import time

import pytest

from tests.support.child_process import REPO

LAB_SCRIPT = REPO / "scripts" / "lab"
UP_TIMEOUT = 600  # a cold start on a busy 2-core machine; normally ~30 s
CHART_TIMEOUT = 300


def run_lab(*args: str, timeout: float) -> str:
    """Run `scripts/lab ARGS`; return its stdout, fail the test on a non-zero exit or timeout."""
    try:
        proc = subprocess.run([str(LAB_SCRIPT), *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"scripts/lab {' '.join(args)} did not finish within {timeout:.0f}s")
    if proc.returncode != 0:
        pytest.fail(f"scripts/lab {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stderr}\n{proc.stdout}")
    return proc.stdout


def lab_is_running() -> bool:
    """`scripts/lab status` succeeds: every lab component is up."""
    return subprocess.run([str(LAB_SCRIPT), "status"], capture_output=True, timeout=60).returncode == 0


def labctl(part: str = "cluster"):
    """A module of the lab's control package; by default `cluster` (kubectl and helm, knowing
    where they are and which kubeconfig to use)."""
    return importlib.import_module(f"lab.labctl.{part}")


def install_app_chart() -> None:
    """Install this checkout's charts/cluster-codex (`lab up` on a running lab does not)."""
    # In a child process: labctl prints its steps, which only a failure needs to show.
    install = subprocess.run(
        [sys.executable, "-c", "from lab.labctl.install import install_app_chart; install_app_chart()"],
        cwd=REPO, timeout=CHART_TIMEOUT, capture_output=True, text=True)
    assert install.returncode == 0, install.stderr


def wait_for(what: str, fn, timeout: float, interval: float = 1.0):
    """Poll fn() until it returns something truthy; fail with `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
