"""Acting on a finished plan from its run page: each kubectl step has Run (read-only) or Dry-run,
Apply appears only after an accepted dry-run, and every answer lands beside its step. The rules
themselves are tested in tests/actions; these tests are what the page does with them."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.plans.plan_helpers import ALL_KINDS


def _step_url(run_id, index, what):
    return f"/plans/runs/{run_id}/steps/{index}/{what}"


def _text(response):
    return response.get_data(as_text=True)


def test_the_owner_sees_each_step_with_its_action(finished_run, changer):
    run_id = finished_run(changer.user_id)
    page = _text(changer.get(f"/plans/runs/{run_id}"))
    assert "Act on this plan" in page
    assert page.count('class="plan-step"') == 3
    assert _step_url(run_id, 0, "run") in page and _step_url(run_id, 1, "dry-run") in page
    assert _step_url(run_id, 1, "apply") not in page  # Apply only after an accepted dry-run


def test_run_shows_the_read_only_output_beside_the_step(finished_run, changer):
    run_id = finished_run(changer.user_id)
    response = changer.submit(_step_url(run_id, 0, "run"), htmx=True)
    assert response.status_code == 200, _text(response)
    assert "<html" not in _text(response) and "api-0" in _text(response)


def test_dry_run_then_apply_changes_the_object_as_the_user(finished_run, changer, kube, world):
    run_id = finished_run(changer.user_id)
    dry = changer.submit(_step_url(run_id, 1, "dry-run"), htmx=True)
    assert dry.status_code == 200, _text(dry)
    label = finished_run.label
    assert f"+    {label}: seen" in _text(dry)  # the server-computed change, as a diff
    assert _step_url(run_id, 1, "apply") in _text(dry)
    pod_path = f"/api/v1/namespaces/{world['ns_a']}/pods/api-0"
    assert label not in kube.get(pod_path)["metadata"].get("labels", {})  # a dry-run changes nothing
    applied = changer.submit(_step_url(run_id, 1, "apply"), htmx=True)
    assert applied.status_code == 200, _text(applied)
    assert kube.get(pod_path)["metadata"]["labels"][label] == "seen"


def test_an_undo_is_labelled_and_named_before_apply(finished_run, changer, world):
    ns, label = world["ns_a"], finished_run.label
    plan = (f"### 1. Mark it\n\n```bash\nkubectl -n {ns} label pod api-0 {label}=seen\n```\n\n"
            f"**How to undo:** remove the label:\n\n```bash\nkubectl -n {ns} label pod api-0 {label}-\n```\n")
    run_id = finished_run(changer.user_id, text=plan)
    page = _text(changer.get(f"/plans/runs/{run_id}"))
    assert "undo of step 1" in page
    dry = _text(changer.submit(_step_url(run_id, 0, "dry-run"), htmx=True))
    assert f"To undo it: kubectl -n {ns} label pod api-0 {label}-" in dry  # in Apply's confirmation
    plain = _text(changer.submit(_step_url(run_id, 0, "dry-run")))  # the page without JavaScript
    assert "To undo it afterwards" in plain and f"label pod api-0 {label}-" in plain


def test_apply_from_stdin_dry_runs_and_applies_the_manifest_its_step_shows(finished_run, changer, kube, world):
    ns, label = world["ns_a"], finished_run.label
    manifest = f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: api-0\n  labels:\n    {label}: applied\n"
    plan = f"### 1. Label it from a manifest\n\n```yaml\n{manifest}```\n\n```bash\nkubectl -n {ns} apply -f -\n```\n"
    run_id = finished_run(changer.user_id, text=plan)
    page = _text(changer.get(f"/plans/runs/{run_id}"))
    assert "The manifest it applies" in page and f"{label}: applied" in page
    dry = changer.submit(_step_url(run_id, 0, "dry-run"), htmx=True)
    assert dry.status_code == 200, _text(dry)
    assert f"+    {label}: applied" in _text(dry)
    pod_path = f"/api/v1/namespaces/{ns}/pods/api-0"
    assert label not in kube.get(pod_path)["metadata"].get("labels", {})
    applied = changer.submit(_step_url(run_id, 0, "apply"), htmx=True)
    assert applied.status_code == 200, _text(applied)
    assert kube.get(pod_path)["metadata"]["labels"][label] == "applied"


def test_apply_without_a_dry_run_is_refused_beside_the_step(finished_run, changer):
    run_id = finished_run(changer.user_id)
    response = changer.submit(_step_url(run_id, 1, "apply"), htmx=True)
    assert response.status_code == 409
    assert "dry-run" in _text(response).lower() and 'role="alert"' in _text(response)


def test_a_step_outside_the_change_grant_is_refused_before_kubectl(finished_run, changer):
    run_id = finished_run(changer.user_id)
    response = changer.submit(_step_url(run_id, 2, "dry-run"), htmx=True)
    assert response.status_code == 403
    assert 'role="alert"' in _text(response)


def test_a_view_only_owner_may_run_but_not_dry_run(finished_run, dev):
    run_id = finished_run(dev.user_id)
    assert dev.submit(_step_url(run_id, 0, "run"), htmx=True).status_code == 200
    assert dev.submit(_step_url(run_id, 1, "dry-run"), htmx=True).status_code == 403


def test_steps_of_a_plan_the_user_may_not_read_are_not_found(finished_run, changer, make_user, login):
    run_id = finished_run(changer.user_id)
    make_user("stranger", {})
    stranger = login("stranger")
    assert stranger.submit(_step_url(run_id, 0, "run"), htmx=True).status_code == 404
    assert changer.submit(_step_url(run_id, 9, "run"), htmx=True).status_code == 404


def test_actions_need_the_csrf_token(finished_run, changer):
    run_id = finished_run(changer.user_id)
    assert changer.post(_step_url(run_id, 0, "run")).status_code == 400


def test_without_javascript_the_outcome_is_a_page_with_the_way_back(finished_run, changer):
    run_id = finished_run(changer.user_id)
    page = changer.submit(_step_url(run_id, 0, "run"))
    assert page.status_code == 200 and "<html" in _text(page)
    assert re.search(rf'href="/plans/runs/{run_id}"', _text(page))


@pytest.mark.plan_config(CODEX_ACTIONS=False)
def test_read_only_mode_says_so_and_refuses(finished_run, changer):
    run_id = finished_run(changer.user_id)
    page = _text(changer.get(f"/plans/runs/{run_id}"))
    assert "read-only mode" in page and _step_url(run_id, 0, "run") not in page
    assert changer.submit(_step_url(run_id, 0, "run"), htmx=True).status_code == 403


def _dry_run_and_apply(client, run_id, index=1):
    assert client.submit(_step_url(run_id, index, "dry-run"), htmx=True).status_code == 200
    applied = client.submit(_step_url(run_id, index, "apply"), htmx=True)
    assert applied.status_code == 200, _text(applied)
    return _text(applied)


def test_after_apply_the_plan_waits_for_k8sgpt_and_the_run_keeps_the_history(finished_run, changer):
    run_id = finished_run(changer.user_id)  # about a Result K8sGPT (here: the test) still reports
    applied = _dry_run_and_apply(changer, run_id)
    assert 'hx-swap-oob="true"' in applied and "Waiting for K8sGPT" in applied
    verification = changer.get(f"/plans/runs/{run_id}/verification", headers={"HX-Request": "true"})
    assert 'hx-trigger="every 5s"' in _text(verification)  # it keeps polling while it waits
    page = _text(changer.get(f"/plans/runs/{run_id}"))
    assert page.count("Dry-run · accepted") == 1 and page.count("Apply · accepted") == 1
    assert "by changer" in page and "system:serviceaccount:" in page


def test_a_finding_k8sgpt_dropped_is_cleared_and_stays_cleared(finished_run, changer):
    run_id = finished_run(changer.user_id, result_name=f"gone-{uuid.uuid4().hex[:8]}")
    applied = _dry_run_and_apply(changer, run_id)
    assert "Finding cleared at" in applied
    page = _text(changer.get(f"/plans/runs/{run_id}"))
    assert "Finding cleared at" in page and 'hx-trigger="every 5s"' not in page
    assert "Verification · accepted" in page


def test_the_page_load_that_decides_the_verification_lists_it_in_the_history(app, finished_run, changer, world):
    """Applied elsewhere (an administrator's approval, another tab): the next look decides and shows it."""
    from tests.actions.helpers import act

    run_id = finished_run(changer.user_id, result_name=f"gone-{uuid.uuid4().hex[:8]}")
    text = f"kubectl label pod api-0 {finished_run.label}=seen -n {world['ns_a']}"
    assert act(app, "dry-run", changer.user_id, run_id, text).ok
    assert act(app, "apply", changer.user_id, run_id, text).ok
    page = _text(changer.get(f"/plans/runs/{run_id}"))
    assert "Finding cleared at" in page and "Verification · accepted" in page


@pytest.mark.plan_config(CODEX_VERIFY_WITHIN=0)
def test_a_finding_still_reported_after_the_wait_points_at_the_root_cause_plan(finished_run, changer):
    run_id = finished_run(changer.user_id)
    applied = _dry_run_and_apply(changer, run_id)
    assert "still reports this finding" in applied and "mode=root_cause" in applied


def test_a_teammate_who_may_read_the_run_sees_its_history_but_no_buttons(finished_run, changer, world,
                                                                         make_user, login):
    run_id = finished_run(changer.user_id)
    _dry_run_and_apply(changer, run_id)
    make_user("teammate", {world["ns_a"]: ALL_KINDS})
    page = _text(login("teammate").get(f"/plans/runs/{run_id}"))
    assert "Apply · accepted" in page and "by changer" in page
    assert _step_url(run_id, 0, "run") not in page
