"""The team-a crash-looping API (charts/known-issues/crashloop-api): its plan, prompt and secret.

The chart's Secret plants a database password that the pod reads through env; it must appear in
no prompt, plan or page, while the finding K8sGPT wrote and the live context do.
"""

import re
import subprocess
import time

import pytest

from tests.plans.plan_helpers import ALL_KINDS, generate_and_stream, get_run
from tests.support.lab_kube import RESULTS, ROOT

PLANTED_PASSWORD = "s3cr3t-planted-a7f3c9e1"  # charts/known-issues/crashloop-api/templates/secret.yaml
RESULT_TIMEOUT = 300


@pytest.fixture(scope="session")
def crashloop_result(kube):
    """The name of K8sGPT's Result about the crash-looping team-a pod (installs the charts)."""
    subprocess.run([str(ROOT / "scripts" / "lab"), "issues", "install"], check=True, timeout=600,
                   capture_output=True)
    pattern = re.compile(r"team-a/crashloop-api-[a-z0-9]+-[a-z0-9]{5}")
    deadline = time.monotonic() + RESULT_TIMEOUT
    while True:
        for item in kube.get(RESULTS).get("items", []):
            spec = item.get("spec") or {}
            if spec.get("kind") == "Pod" and pattern.fullmatch(spec.get("name") or ""):
                return item["metadata"]["name"]
        if time.monotonic() > deadline:
            pytest.fail(f"K8sGPT wrote no Result for the crashloop-api pod within {RESULT_TIMEOUT}s")
        time.sleep(2)


def test_crashloop_prompt_has_the_finding_but_never_the_planted_password(app, crashloop_result,
                                                                         make_user, login):
    make_user("team-a-dev", {"team-a": ALL_KINDS})
    client = login("team-a-dev")
    dialog = client.get(f"/plans/dialog?result={crashloop_result}&mode=root_cause").get_data(as_text=True)
    assert "crashloop-api" in dialog and PLANTED_PASSWORD not in dialog
    run_id, events = generate_and_stream(client, crashloop_result, mode="root_cause",
                                         context="The DB password was rotated this morning")
    run = get_run(app, run_id)
    assert run.status == "done"
    assert "crashloop-api" in run.prompt_text and "The DB password was rotated" in run.prompt_text
    assert "secretKeyRef" in run.prompt_text and "crashloop-api-db" in run.prompt_text  # the reference only
    assert "docker.io/library/busybox:1.36" in run.prompt_text  # the pod as the user may read it
    for text in (run.prompt_text, run.prompt_messages, run.output_text, *(e.data for e in events),
                 client.get(f"/plans/runs/{run_id}").get_data(as_text=True)):
        assert PLANTED_PASSWORD not in text
