"""scripts/lab itself: idempotent up, status, env, and its one-line bad paths."""

from __future__ import annotations

import os
import subprocess

from tests.support.lab_control import LAB_SCRIPT
from tests.support.lab_kube import STATE

COMPONENTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "explainer", "k8sgpt",
              "k8sgpt-operator"]


def lab_cmd(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(LAB_SCRIPT), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_up_on_a_running_lab_says_so_and_succeeds(lab):
    proc = lab_cmd("up")
    assert proc.returncode == 0, proc.stderr
    assert "already running" in proc.stdout


def test_status_shows_every_component_healthy(lab):
    proc = lab_cmd("status")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = {line.split()[0]: line for line in proc.stdout.splitlines()[1:] if line.strip()}
    for name in COMPONENTS:
        assert name in lines and " ok " in lines[name], proc.stdout
    assert "16443" in lines["kube-apiserver"] and "22379" in lines["etcd"]
    assert "total RSS" in proc.stdout


def test_env_prints_the_kubeconfig_export_line():
    proc = lab_cmd("env")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"export KUBECONFIG={STATE / 'kubeconfig'}"


def test_missing_binary_says_run_build(tmp_path):
    proc = lab_cmd("up", env={"CODEX_CACHE_DIR": str(tmp_path / "cache"), "CODEX_LAB_DIR": str(tmp_path / "state")})
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "binary missing" in proc.stderr and "run scripts/lab build" in proc.stderr
    assert not (tmp_path / "state" / "run").exists() or not any((tmp_path / "state" / "run").iterdir())


def test_port_in_use_names_component_and_port(lab, tmp_path):
    # a second lab (another state dir) collides with the running one on etcd's port
    proc = lab_cmd("up", env={"CODEX_LAB_DIR": str(tmp_path / "state")})
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "etcd" in proc.stderr and "22379" in proc.stderr and "already in use" in proc.stderr
    assert not list((tmp_path / "state" / "run").glob("*.pid"))


def test_cert_refuses_names_that_would_break_the_subject(lab):
    proc = lab_cmd("cert", "alice/O=system:masters")
    assert proc.returncode != 0 and "invalid name" in proc.stderr
