"""Browser journeys: Playwright (pytest-playwright) driving Debian's Chromium against the lab.

The session starts everything the journeys need and tears it down again:
the lab with the known-issue charts (the `known_issues` fixture of tests/support/lab_fixtures.py),
a real OIDC provider process, the offline planner, and the app under gunicorn on a free port with
a fresh SQLite database and an administrator seeded through the CLI.

Each journey opens its own browser contexts through `sessions` (one context per person, so an
administrator and a developer can be signed in at once). When a test fails, every page it
opened is saved as a screenshot and HTML under artifacts/browser/<test>/, with the app's log.
Every page is watched for Content-Security-Policy violations: a journey that caused any fails at
teardown with the list.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.browser_helpers import (
    PASSWORD, CspWatch, Person, ensure_grant, sign_in_local, sign_in_sso,
    wait_for_team_findings,
)
from tests.support.app_server import AppServer
from tests.support.chromium import launch_args
from tests.support.child_process import REPO as ROOT
from tests.support.planner_process import PlannerProcess

# The lab is shared and the machine small: a page may take a few seconds to answer.
expect.set_options(timeout=15_000)

ARTIFACTS = ROOT / "artifacts" / "browser"
# Only loopback exists here; anything else a page asks for is refused at once, not timed out.
OFF_LOOPBACK = re.compile(r"^(?!(https?|wss?)://(127\.0\.0\.1|localhost)(:\d+)?/)[a-z]+://")

_suite = {"started": None}


def pytest_terminal_summary(terminalreporter):
    if _suite["started"] is not None:
        terminalreporter.write_line(
            f"browser suite run time: {time.monotonic() - _suite['started']:.1f}s "
            "(lab, provider, planner and app start included)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


# -- pytest-playwright: Debian's Chromium, never a downloaded browser --------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return launch_args(browser_type_launch_args)


@pytest.fixture(scope="session")
def base_url(app_server):
    # Also replaces pytest-base-url's fixture, whose class-method form pytest 9 warns about.
    return app_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, app_server):
    return {**browser_context_args, "base_url": app_server.url,
            "viewport": {"width": 1366, "height": 900}, "locale": "en-US",
            "timezone_id": "UTC", "permissions": ["clipboard-read", "clipboard-write"]}


# -- the system under test ------------------------------------------------------------------


@pytest.fixture(scope="session")
def suite_clock():
    _suite["started"] = time.monotonic()


@pytest.fixture(scope="session")
def planner(suite_clock):
    """The offline planner, a little slower than default so streaming can be watched."""
    with PlannerProcess("--delay-ms", "20", start_timeout=60) as process:
        yield process


@pytest.fixture(scope="session")
def app_server(suite_clock, known_issues, oidc_provider, planner, tmp_path_factory):
    """The app under gunicorn, fresh database, pointed at the lab, the provider and the planner."""
    server = AppServer(kubeconfig=known_issues.app_kubeconfig, oidc_issuer=oidc_provider.issuer,
                       llm_base_url=planner.base_url,
                       workdir=tmp_path_factory.mktemp("app-server"))
    server.prepare_database()
    server.admin_password = server.seed_admin("admin")
    with server:
        yield server
    if os.environ.get("CODEX_KEEP_APP_LOG"):
        print(server.log_tail(200))


@dataclass
class Cast:
    """The people of the journeys: an admin (local), Alice (SSO, team-a), Bob (local, team-b)."""

    admin: Person
    alice: Person
    bob: Person
    tag: str
    ids: dict = field(default_factory=dict)


@pytest.fixture(scope="session")
def cast(app_server, oidc_provider):
    tag = uuid.uuid4().hex[:6]
    alice = Person(username=f"alice-{tag}", sub=f"alice-{tag}", display_name="Alice Developer",
                   email=f"alice-{tag}@example.com")
    oidc_provider.set_user(alice.sub, preferred_username=alice.username, name=alice.display_name,
                           email=alice.email)
    return Cast(admin=Person(username="admin", password=app_server.admin_password),
                alice=alice, bob=Person(username=f"bob-{tag}", password=PASSWORD), tag=tag)


@pytest.fixture(scope="session")
def team_a_findings(known_issues):
    """The team-a Results K8sGPT reported for the charts (waits for the first analysis)."""
    return wait_for_team_findings(known_issues, "team-a")


# -- browser sessions, with artifacts on failure -----------------------------------------------


class Sessions:
    """Opens one browser context per person; remembers every page for failure artifacts and
    watches every context for CSP violations."""

    def __init__(self, browser, context_args, cast_, provider):
        self.browser, self.context_args, self.cast, self.provider = browser, context_args, cast_, provider
        self.contexts, self.pages, self.csp_watches = [], [], []

    def new_page(self, label: str):
        context = self.browser.new_context(**self.context_args)
        context.set_default_timeout(20_000)
        context.route(OFF_LOOPBACK, lambda route: route.abort())
        self.csp_watches.append((label, CspWatch(context)))
        self.contexts.append(context)
        page = context.new_page()
        self.pages.append((label, page))
        return page

    def admin(self):
        """A page signed in as the administrator (local account)."""
        page = self.new_page("admin")
        sign_in_local(page, self.cast.admin.username, self.cast.admin.password)
        return page

    def alice(self):
        """A page signed in as Alice through the OIDC provider."""
        page = self.new_page("alice")
        sign_in_sso(page, self.cast.alice.sub)
        return page

    def bob(self):
        page = self.new_page("bob")
        sign_in_local(page, self.cast.bob.username, self.cast.bob.password)
        return page

    def save_artifacts(self, folder: Path, app_log: Path | None):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        for number, (label, page) in enumerate(self.pages, 1):
            stem = folder / f"{number}-{label}"
            try:
                if page.is_closed():
                    continue
                page.screenshot(path=f"{stem}.png", full_page=True, timeout=10_000)
                Path(f"{stem}.html").write_text(f"<!-- {page.url} -->\n" + page.content())
            except Exception as exc:  # a crashed page must not hide the test's own failure
                Path(f"{stem}.error.txt").write_text(f"{page.url}\n{exc!r}\n")
        if app_log and app_log.exists():
            shutil.copyfile(app_log, folder / "app.log")

    def csp_report(self) -> str:
        """The CSP violations seen in any context so far, by person; empty when none."""
        for _, page in self.pages:
            if not page.is_closed():
                try:
                    page.evaluate("0")  # a round trip: reports still in flight arrive first
                except Exception:  # a page crashed or mid-navigation has nothing more to send
                    pass
        return "\n".join(f"[{label}] {line}" for label, watch in self.csp_watches
                         for line in watch.report().splitlines())

    def close(self):
        for context in self.contexts:
            try:
                context.close()
            except Exception:
                pass


@pytest.fixture
def sessions(request, browser, browser_context_args, cast, app_server, oidc_provider):
    """Open signed-in browser pages: sessions.admin(), sessions.alice(), sessions.new_page()."""
    opened = Sessions(browser, browser_context_args, cast, oidc_provider)
    yield opened
    violations = opened.csp_report()
    reports = (getattr(request.node, f"rep_{when}", None) for when in ("setup", "call"))
    if violations or any(report is not None and report.failed for report in reports):
        folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        opened.save_artifacts(folder, app_server.log_path)
        sys.stderr.write(f"\nbrowser artifacts (screenshots, HTML, app.log): {folder}\n"
                         f"{app_server.log_tail(25, skip='GET /static/')}\n")
    opened.close()
    if violations:
        pytest.fail(f"Content-Security-Policy violations (each one is a script or style the "
                    f"browser refused):\n{violations}", pytrace=False)


@pytest.fixture
def granted(sessions, cast, app_server):
    """Alice holds team-a (pods, deployments) and Bob team-b (every kind), whatever ran before."""
    probe = sessions.new_page("first-sso-login")
    sign_in_sso(probe, cast.alice.sub)  # SSO users exist once they signed in
    probe.context.close()
    admin = sessions.admin()
    ensure_grant(admin, cast, cast.alice.username, "team-a", ["pods", "deployments"])
    ensure_grant(admin, cast, cast.bob.username, "team-b", None, password=cast.bob.password)
    admin.context.close()
    return cast
