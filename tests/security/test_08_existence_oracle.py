"""Hole 8: a finding outside the user's grants answers exactly like one that does not exist, and
neither stores a plan run."""

import re

import pytest

from tests.plans.plan_helpers import generate
from tests.security.plan_world import app_config, run_count, sec_world  # noqa: F401

MISSING = "codex-sec-no-such-result"


def _normalized(response, result_name):
    """The body with what the request itself put in (the Result name, the dialog id) blanked."""
    text = response.get_data(as_text=True).replace(result_name, "RESULT")
    text = re.sub(r"plan-[0-9a-f]{12}", "plan-ID", text)
    # CSRF tokens are signed with a timestamp: they differ between any two responses.
    return re.sub(r"[\w-]{20,}\.[\w-]{4,}\.[\w-]{20,}", "TOKEN", text)


@pytest.mark.parametrize("htmx", [True, False])
def test_dialog_of_a_foreign_finding_looks_like_a_missing_one(sec_world, lab_user, sign_in, htmx):
    lab_user("dev", {sec_world["ns_a"]: {"pods"}})
    client = sign_in("dev")
    headers = {"HX-Request": "true"} if htmx else {}
    foreign_name = sec_world["results"]["b"]
    foreign = client.get(f"/plans/dialog?result={foreign_name}&mode=remediation", headers=headers)
    missing = client.get(f"/plans/dialog?result={MISSING}&mode=remediation", headers=headers)
    assert foreign.status_code == missing.status_code == 404
    assert _normalized(foreign, foreign_name) == _normalized(missing, MISSING)
    assert sec_world["ns_b"] not in foreign.get_data(as_text=True)


@pytest.mark.parametrize("htmx", [True, False])
def test_generate_for_a_foreign_finding_looks_like_a_missing_one_and_stores_nothing(
        app, sec_world, lab_user, sign_in, htmx):
    lab_user("dev", {sec_world["ns_a"]: {"pods"}})
    client = sign_in("dev")
    before = run_count(app)
    foreign = generate(client, sec_world["results"]["b"], htmx=htmx)
    missing = generate(client, MISSING, htmx=htmx)
    assert foreign.status_code == missing.status_code == 404
    assert _normalized(foreign, sec_world["results"]["b"]) == _normalized(missing, MISSING)
    assert run_count(app) == before
