"""The kubectl runner on its own (no Flask, no database): argv never through a shell, identity and
connection flags put first by the runner alone, stdin, a deadline that kills, bounded redacted
output, a missing binary said plainly."""

from __future__ import annotations

import time

import pytest

from app.actions.kubectl import APP_ITSELF, Identity, Kubectl, KubectlMissing
from app.config import default_kubectl
from tests.actions.fakes import RecordingKubectl, alive, answering, hanging

ALICE = Identity("system:serviceaccount:cluster-codex-users:user-7", ("cluster-codex:users",))


def test_identity_and_connection_flags_come_first_then_the_steps_arguments(tmp_path):
    fake = answering(tmp_path, stdout="done\n")
    runner = Kubectl(str(fake.path), kubeconfig="/srv/app.kubeconfig", context="lab")
    result = runner.run(["scale", "deployments.v1.apps/web", "--replicas=0", "--namespace", "team-a"],
                        identity=ALICE)
    assert result.ok and result.stdout == "done\n" and result.exit_code == 0
    assert fake.argvs() == [["--kubeconfig=/srv/app.kubeconfig", "--context=lab",
                             "--as=system:serviceaccount:cluster-codex-users:user-7",
                             "--as-group=cluster-codex:users",
                             "scale", "deployments.v1.apps/web", "--replicas=0", "--namespace", "team-a"]]
    assert result.argv == ("scale", "deployments.v1.apps/web", "--replicas=0", "--namespace", "team-a")


def test_the_app_itself_gets_no_impersonation_flags(tmp_path):
    fake = answering(tmp_path)
    Kubectl(str(fake.path)).run(["get", "pods"], identity=APP_ITSELF)
    assert fake.argvs() == [["get", "pods"]]


def test_shell_syntax_in_an_argument_is_just_text(tmp_path):
    fake = answering(tmp_path)
    marker = tmp_path / "pwned"
    Kubectl(str(fake.path)).run(["annotate", "pods/web-1", f"note=$(touch {marker}); touch {marker}"],
                                identity=ALICE)
    assert not marker.exists()
    assert fake.argvs()[0][-1] == f"note=$(touch {marker}); touch {marker}"


def test_stdin_reaches_kubectl(tmp_path):
    fake = answering(tmp_path)
    manifest = '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}\n'
    Kubectl(str(fake.path)).run(["apply", "--filename=-"], identity=ALICE, stdin=manifest)
    assert fake.calls()[0]["stdin"] == manifest


def test_kubectl_gets_a_small_environment_without_kuberc(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-pass")
    monkeypatch.setenv("KUBECTL_EXTERNAL_DIFF", "rm -rf")
    fake = answering(tmp_path)
    Kubectl(str(fake.path)).run(["get", "pods"], identity=ALICE)
    env = fake.calls()[0]["env"]
    assert env["KUBERC"] == "off" and env["KUBECTL_KUBERC"] == "false"
    assert "AWS_SECRET_ACCESS_KEY" not in env and "KUBECTL_EXTERNAL_DIFF" not in env


def test_a_hanging_kubectl_is_killed_with_its_children_at_the_deadline(tmp_path):
    fake = hanging(tmp_path)
    started = time.monotonic()
    result = Kubectl(str(fake.path), timeout=1.0).run(["get", "pods"], identity=ALICE)
    assert result.timed_out and result.exit_code is None and not result.ok
    assert time.monotonic() - started < 8
    assert "starting..." in result.stdout  # what it printed before the deadline is kept
    kubectl_pid, child_pid = map(int, fake.pids.read_text().split())
    deadline = time.monotonic() + 5
    while (alive(kubectl_pid) or alive(child_pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(kubectl_pid) and not alive(child_pid)


def test_a_non_zero_exit_is_an_answer_not_an_exception(tmp_path):
    fake = answering(tmp_path, stderr="Error from server (NotFound): deployments.apps \"web\" not found\n", code=1)
    result = Kubectl(str(fake.path)).run(["get", "deployments.v1.apps/web"], identity=ALICE)
    assert result.exit_code == 1 and not result.ok and "NotFound" in result.stderr


def test_output_is_bounded_and_redacted(tmp_path):
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlc2lnbmF0dXJl"
    body = (f"sys.stdout.write('token: {token}\\n'); "
            "sys.stdout.write(('x' * 99 + '\\n') * 5000); sys.stderr.write('y' * 10)")
    fake = RecordingKubectl(tmp_path, body)
    result = Kubectl(str(fake.path), max_output=4096).run(["get", "pods"], identity=ALICE)
    assert result.ok and result.truncated
    assert token not in result.stdout and "[REDACTED]" in result.stdout
    assert len(result.stdout) < 4096 + 100 and result.stdout.endswith("[output cut at 4 KiB]\n")
    assert all(len(line) == 99 for line in result.stdout.splitlines()[1:-1])  # no half line kept
    assert result.stderr == "y" * 10


@pytest.mark.parametrize("binary", [None, "", "/nonexistent/kubectl", "kubectl-that-is-not-on-path"])
def test_a_missing_kubectl_is_said_plainly(binary):
    with pytest.raises(KubectlMissing, match="kubectl|CODEX_KUBECTL"):
        Kubectl(binary).run(["get", "pods"], identity=ALICE)


def test_a_file_that_is_not_executable_is_missing(tmp_path):
    path = tmp_path / "kubectl"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o644)
    with pytest.raises(KubectlMissing, match=str(path)):
        Kubectl(str(path)).run(["get", "pods"], identity=ALICE)


def test_the_default_kubectl_is_the_labs_newest_else_the_one_on_path(tmp_path, monkeypatch):
    built = tmp_path / "cache" / "bin"
    for version in ("kube-v1.9.0", "kube-v1.34.4"):
        (built / version).mkdir(parents=True)
        answering(built / version)
    (tmp_path / "on-path").mkdir()
    answering(tmp_path / "on-path")
    monkeypatch.setenv("PATH", str(tmp_path / "on-path"))
    monkeypatch.setenv("CODEX_CACHE_DIR", str(tmp_path / "cache"))
    assert default_kubectl() == str(built / "kube-v1.34.4" / "kubectl")  # the lab's own version
    monkeypatch.setenv("CODEX_CACHE_DIR", str(tmp_path / "no-cache"))
    assert default_kubectl() == str(tmp_path / "on-path" / "kubectl")
