"""Sign-in can't be brute-forced or enumerated.

Failed attempts are counted per account and per client address (defaults: 5 and 20 a minute);
the next one gets the sign-in form again with 429, a readable wait and Retry-After. Counts kept
in Redis are shared by every app instance; an unreachable Redis is never a 500. An unknown
username costs what a wrong password costs.
"""

import re
import time

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent
from tests.support.child_process import free_port

PASSWORD = "correct horse battery staple"
TOO_MANY = "Too many sign-in attempts"


def attempt(client, username, password="wrong password", **kwargs):
    return client.submit("/login", {"username": username, "password": password}, **kwargs)


def assert_throttled(response):
    """429, the form again, and a wait the header and the page agree on."""
    page = response.get_data(as_text=True)
    assert response.status_code == 429, page
    assert TOO_MANY in page and 'name="password"' in page
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 60
    assert re.search(rf"try again in {wait} seconds?", page), page


def test_sixth_failure_in_a_minute_locks_the_account_even_for_the_right_password(
        client, make_user):
    make_user("ann")
    for _ in range(5):
        assert attempt(client, "ann").status_code == 401

    response = attempt(client, "ann", PASSWORD)

    assert_throttled(response)
    assert client.get("/login").status_code == 200  # the form: not signed in


def test_a_burst_of_parallel_guesses_is_bounded_too(app, make_user):
    # Failures are counted once answered, so parallel guesses all pass that check: the
    # every-attempt limit (10 per minute) is what stops them.
    from concurrent.futures import ThreadPoolExecutor

    make_user("ann")
    clients = [app.test_client() for _ in range(30)]
    for index, client in enumerate(clients):
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{index + 1}"  # apart from the address limit
        client.token = client.csrf_token()

    def guess(client):
        return client.post("/login", data={"username": "ann", "password": "wrong password",
                                           "csrf_token": client.token}).status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(guess, clients))
    assert statuses.count(401) <= 10, statuses
    assert statuses.count(429) >= 20, statuses


def test_account_count_ignores_case_and_surrounding_spaces(client, make_user):
    make_user("ann")
    for spelling in ("ann", "Ann", " ANN", "aNn ", "ann"):
        assert attempt(client, spelling).status_code == 401

    assert_throttled(attempt(client, "ann"))


def test_unknown_accounts_are_throttled_like_real_ones(client):
    """The throttle does not tell which usernames exist."""
    for _ in range(5):
        assert attempt(client, "nobody").status_code == 401

    assert_throttled(attempt(client, "nobody"))


def test_successful_sign_ins_do_not_count(client, auth, make_user):
    make_user("ann")
    for _ in range(7):
        assert auth.login("ann").status_code == 303
        auth.logout()

    assert attempt(client, "ann").status_code == 401  # still the credentials check answering


def test_a_locked_account_does_not_lock_others(client, make_user):
    make_user("ann")
    make_user("bob")
    for _ in range(5):
        attempt(client, "ann")

    assert attempt(client, "bob", PASSWORD).status_code == 303


def test_failures_from_one_address_lock_that_address(make_app, make_user, remote):
    """Guessing across many usernames from one place (20 a minute by default; 3 here)."""
    make_user("ann")
    client = make_app(CODEX_LOGIN_LIMIT_PER_ADDRESS="3 per minute").test_client()
    for n in range(3):
        assert attempt(client, f"guess-{n}", environ_base=remote).status_code == 401

    assert_throttled(attempt(client, "ann", PASSWORD, environ_base=remote))
    # Another address is not affected.
    assert attempt(client, "ann", PASSWORD).status_code == 303


def test_throttled_attempts_are_not_audited(app, client):
    """Once throttled, an attacker can't grow the audit log at will either."""
    for _ in range(8):
        attempt(client, "nobody")
    with app.app_context():
        failed = db.session.scalar(sa.select(sa.func.count(AuditEvent.id))
                                   .where(AuditEvent.action == "login.failed"))
    assert failed == 5


def test_htmx_request_gets_the_form_fragment(client):
    for _ in range(5):
        attempt(client, "nobody")

    response = attempt(client, "nobody", htmx=True)

    assert_throttled(response)
    assert "<html" not in response.get_data(as_text=True)


def test_attempts_are_allowed_again_once_the_window_has_passed(make_app):
    app = make_app(CODEX_LOGIN_LIMIT_PER_ACCOUNT="2 per 2 seconds")
    client = app.test_client()
    attempt(client, "nobody")
    attempt(client, "nobody")
    response = attempt(client, "nobody")
    assert_throttled(response)
    assert int(response.headers["Retry-After"]) <= 2

    time.sleep(2.1)

    assert attempt(client, "nobody").status_code == 401


def test_failures_on_one_instance_count_on_another(make_app, redis_url):
    """Two app instances (two workers, two replicas) share the counts kept in Redis."""
    first = make_app(CODEX_RATELIMIT_STORAGE_URL=redis_url).test_client()
    second = make_app(CODEX_RATELIMIT_STORAGE_URL=redis_url).test_client()
    for _ in range(5):
        assert attempt(first, "nobody").status_code == 401

    assert_throttled(attempt(second, "nobody"))


def test_in_memory_counts_are_per_instance(make_app):
    """The control for the test above: without a shared storage, instances count apart."""
    first = make_app(CODEX_RATELIMIT_STORAGE_URL="memory://").test_client()
    second = make_app(CODEX_RATELIMIT_STORAGE_URL="memory://").test_client()
    for _ in range(5):
        attempt(first, "nobody")

    assert attempt(second, "nobody").status_code == 401


def test_unreachable_storage_keeps_sign_in_working_and_throttled(make_app, make_user):
    """A Redis that is down is no 500: the counts fall back to this process's memory."""
    make_user("ann")
    nothing_listens = f"redis://127.0.0.1:{free_port()}/0"  # bound and released
    client = make_app(CODEX_RATELIMIT_STORAGE_URL=nothing_listens).test_client()

    assert client.submit("/login", {"username": "ann", "password": PASSWORD}).status_code == 303
    client.submit("/logout")
    for _ in range(5):
        assert attempt(client, "ann").status_code == 401
    assert_throttled(attempt(client, "ann", PASSWORD))


@pytest.mark.parametrize("who", ["unknown", "sso-only"])
def test_unknown_or_passwordless_user_costs_what_a_wrong_password_costs(client, make_user, who):
    """The server spends one password hash check either way, so timing can't enumerate users.

    Measured as this thread's CPU time (the test client runs the app in it), which other
    processes on a busy machine don't disturb.
    """
    make_user("ann")
    make_user("sso", password=None, oidc_issuer="https://idp.example", oidc_subject="42")
    username = {"unknown": "nobody", "sso-only": "sso"}[who]
    token = client.csrf_token()

    def cpu_seconds(name):
        started = time.thread_time()
        response = client.post("/login", data={"username": name, "password": "wrong password",
                                               "csrf_token": token})
        assert response.status_code == 401
        return time.thread_time() - started

    cpu_seconds(username)  # the first check of a process also makes the stand-in hash
    wrong_password = sorted(cpu_seconds("ann") for _ in range(2))[0]
    other = sorted(cpu_seconds(username) for _ in range(2))[0]
    assert other > 0.5 * wrong_password, (other, wrong_password)
