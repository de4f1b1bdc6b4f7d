"""Per-user limits: concurrent streams and runs per minute, answered with a clear 429."""

import pytest

from tests.plans.plan_helpers import generate, generate_and_stream


@pytest.mark.plan_config(CODEX_PLAN_MAX_CONCURRENT=1)
def test_concurrent_runs_are_limited(app, world, dev):
    assert generate(dev, world["results"]["a"]).status_code == 200  # streaming, not yet read
    response = generate(dev, world["results"]["a"])
    assert response.status_code == 429
    assert "the limit is 1 at a time" in response.get_data(as_text=True)
    assert response.headers["Retry-After"]


@pytest.mark.plan_config(CODEX_PLAN_MAX_PER_MINUTE=2)
def test_runs_per_minute_are_limited(app, world, dev, make_user, login):
    for _ in range(2):
        generate_and_stream(dev, world["results"]["a"])
    response = generate(dev, world["results"]["a"])
    assert response.status_code == 429
    assert "the limit is 2 per minute" in response.get_data(as_text=True)
    page = generate(dev, world["results"]["a"], htmx=False)
    assert page.status_code == 429 and "<html" in page.get_data(as_text=True)
    make_user("fresh", {world["ns_a"]: {"pods"}})
    assert generate(login("fresh"), world["results"]["a"]).status_code == 200  # limits are per user


def test_dialog_targets_error_responses_at_its_alert_region(world, dev):
    text = dev.get(f"/plans/dialog?result={world['results']['a']}&mode=remediation",
                   headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-target-4*="#plan-' in text and 'hx-target-5*="#plan-' in text


@pytest.mark.plan_config(CODEX_PLAN_MAX_CONCURRENT=1)
def test_a_run_whose_stream_never_opened_frees_its_slot(app, world, dev):
    from datetime import timedelta

    from app.extensions import db
    from app.models import PlanRun, utcnow

    with app.app_context():
        db.session.add(PlanRun(user_id=dev.user_id, result_name=world["results"]["a"], finding_kind="Pod",
                               finding_namespace=world["ns_a"], finding_name="api-0", mode="remediation",
                               status="streaming", created_at=utcnow() - timedelta(minutes=2)))
        db.session.commit()
    assert generate(dev, world["results"]["a"]).status_code == 200
