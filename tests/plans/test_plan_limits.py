"""Per-user limits: concurrent streams and runs per minute, answered with a clear 429."""

import pytest

from tests.plans.plan_helpers import generate, generate_and_stream


@pytest.mark.plan_config(CODEX_PLAN_MAX_CONCURRENT=1)
def test_concurrent_runs_are_limited(app, world, dev):
    slow = "[[planner:slow_ms=50]]"
    assert generate(dev, world["results"]["a"], context=slow).status_code == 200  # generating, nobody follows
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
def test_a_generate_without_javascript_is_written_and_frees_its_slot(app, world, dev):
    """No browser ever follows it: the worker writes it to the end, and the slot is free again."""
    import time

    from tests.plans.plan_helpers import get_run

    first = generate(dev, world["results"]["a"], htmx=False)
    assert first.status_code == 303
    run_id = int(first.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    page = dev.get(first.headers["Location"]).get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh"' in page or "status-done" in page  # refreshes itself while it grows
    deadline = time.monotonic() + 30
    while get_run(app, run_id).status == "streaming" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert get_run(app, run_id).status == "done"
    done_page = dev.get(first.headers["Location"]).get_data(as_text=True)
    assert "http-equiv=\"refresh\"" not in done_page and "kubectl" in done_page
    assert generate(dev, world["results"]["a"], htmx=False).status_code == 303
