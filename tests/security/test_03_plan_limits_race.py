"""Hole 3: the plan limits cannot be raced.

Twenty Generates sent at the same instant by one user once all passed the count before any run row
existed. The slot is now reserved in one transaction that locks the user's row, so it holds across
threads, across app processes sharing the database, and on PostgreSQL as on SQLite.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.plans.plan_helpers import generate
from tests.security.plan_world import sec_world  # noqa: F401

LIMIT = 2


@pytest.fixture
def app_config(lab_app_config):
    return {**lab_app_config, "CODEX_PLAN_MAX_CONCURRENT": LIMIT, "CODEX_PLAN_MAX_PER_MINUTE": 100}


def _clients_sharing_one_session(apps, signed_in, count):
    """`count` clients spread over `apps`, all carrying the signed-in user's session cookie."""
    cookie = signed_in.get_cookie("session")
    clients = []
    for index in range(count):
        client = apps[index % len(apps)].test_client()
        client.set_cookie("session", cookie.value)
        clients.append(client)
    return clients


def test_twenty_parallel_generates_accept_exactly_the_limit(app, make_app, sec_world, lab_user,
                                                            sign_in, app_config):
    lab_user("dev", {sec_world["ns_a"]: {"pods", "events"}})
    second = make_app(**app_config)  # another app process on the same database
    clients = _clients_sharing_one_session([app, second], sign_in("dev"), 20)
    for client in clients:  # fetch every CSRF token first, so the Generates start together
        client.token = client.csrf_token()

    def post(client):
        headers = {"HX-Request": "true", "X-CSRFToken": client.token}
        response = client.post("/plans/runs", data={"result": sec_world["results"]["a"],
                                                    "mode": "remediation",
                                                    # slow: every accepted plan is still generating at the end
                                                    "context": "[[planner:slow_ms=100]]"},
                               headers=headers)
        return response.status_code, response.headers.get("Retry-After")

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(post, clients))
    statuses = sorted(status for status, _ in answers)
    assert statuses.count(200) == LIMIT, statuses
    assert statuses.count(429) == 20 - LIMIT, statuses
    assert all(retry for status, retry in answers if status == 429)


def test_the_next_generate_after_the_limit_says_why(app, sec_world, lab_user, sign_in):
    lab_user("dev", {sec_world["ns_a"]: {"pods", "events"}})
    client = sign_in("dev")
    for _ in range(LIMIT):  # still generating when the next one asks
        assert generate(client, sec_world["results"]["a"], context="[[planner:slow_ms=100]]").status_code == 200
    refused = generate(client, sec_world["results"]["a"])
    assert refused.status_code == 429
    assert "limit is 2 at a time" in refused.get_data(as_text=True)
