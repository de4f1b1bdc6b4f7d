"""What a person does in the browser, as small steps the journeys share."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.lab.test_lab_findings import EXPECTED, matches
from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS, CspWatch  # noqa: F401 - shared names
from tests.support.lab_control import wait_for

PASSWORD = "correct horse battery staple"
TEAMS = ("team-a", "team-b", "team-c")
ANALYSIS_TIMEOUT = 240  # K8sGPT's first pass over freshly installed charts (the operator re-analyses every ~30 s)
@dataclass
class Person:
    username: str
    password: str | None = None
    sub: str | None = None  # OIDC subject for people who sign in with SSO
    display_name: str | None = None
    email: str | None = None


# -- signing in and out -----------------------------------------------------------------------


def signed_in(page: Page) -> None:
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_in_local(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    signed_in(page)


def sign_in_sso(page: Page, sub: str) -> None:
    """Sign in through the OIDC provider's own authorization form, as a person would."""
    page.goto("/login")
    page.get_by_role("link", name="Sign in with SSO").click()
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize", exact=True).click()
    signed_in(page)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()


# -- the admin portal ---------------------------------------------------------------------------


def open_admin_user(page: Page, username: str) -> int:
    """Open a user's page in the admin portal; return their id (from the URL)."""
    page.goto("/admin/users")
    page.get_by_role("link", name=username, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(username)
    return int(re.search(r"/admin/users/(\d+)", page.url).group(1))


def create_local_user(page: Page, username: str, password: str, display_name: str = "") -> None:
    page.goto("/admin/users")
    form = page.locator("form", has=page.get_by_role("button", name="Create user"))
    form.get_by_label("Username").fill(username)
    form.get_by_label("Display name").fill(display_name)
    form.get_by_label("Password", exact=True).fill(password)
    form.get_by_label("Password again").fill(password)
    form.get_by_role("button", name="Create user").click()
    expect(page.get_by_text(f"User {username} created.")).to_be_visible()
    expect(page.get_by_role("link", name=username, exact=True)).to_be_visible()


def grant_row(page: Page, namespace: str):
    return page.locator("#admin-panel table.data tbody tr").filter(
        has=page.get_by_role("cell", name=re.compile(rf"^{re.escape(namespace)}\b")))


def add_grant(page: Page, namespace: str, kinds: list[str] | None) -> None:
    """Fill and submit "Add a grant" on a user's admin page (kinds None: every kind)."""
    form = page.locator("form", has=page.get_by_role("button", name="Grant", exact=True))
    form.get_by_label("Namespace").fill(namespace)
    boxes = form.locator("input[type=checkbox][name=kinds]")
    if kinds is None:
        for box in boxes.all():
            box.check()
    else:
        for kind in kinds:
            form.locator(f"input[type=checkbox][name=kinds][value='{kind}']").check()
    form.get_by_role("button", name="Grant", exact=True).click()


def ensure_grant(page: Page, cast, username: str, namespace: str, kinds: list[str] | None,
                 password: str | None = None) -> int:
    """Make sure `username` holds the grant (creating a local user first when asked)."""
    page.goto("/admin/users")
    if password and page.get_by_role("link", name=username, exact=True).count() == 0:
        create_local_user(page, username, password)
    user_id = open_admin_user(page, username)
    cast.ids[username] = user_id
    if grant_row(page, namespace).count() == 0:
        add_grant(page, namespace, kinds)
    expect(grant_row(page, namespace)).to_contain_text("synced")
    return user_id


# -- the lab's truth ---------------------------------------------------------------------------


def namespace_of(result: dict) -> str:
    return (result.get("spec", {}).get("name") or "").partition("/")[0]


def wait_for_team_findings(lab, namespace: str) -> list[dict]:
    """Wait until K8sGPT reported every chart finding expected in `namespace`; return them all."""
    expected = [e for findings in EXPECTED.values() for e in findings if e[1] == namespace]

    def ready():
        results = lab.results()
        if all(any(matches(r, *e) for r in results) for e in expected):
            return [r for r in results if namespace_of(r) == namespace]
        return None

    return wait_for(f"K8sGPT to report the {namespace} findings {expected}", ready,
                    timeout=ANALYSIS_TIMEOUT, interval=2)


def finding_keys(results) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of Results, as the dashboard shows them, sorted (one per Result:
    K8sGPT may report one object in more than one Result)."""
    keys = []
    for r in results:
        ns, _, name = (r["spec"].get("name") or "").partition("/")
        keys.append((r["spec"].get("kind") or "", ns, name))
    return sorted(keys)


# -- the dashboard -------------------------------------------------------------------------------


def dashboard_rows(page: Page) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of every row in the issues table as displayed, sorted."""
    rows = page.locator("table.issues-table tbody tr")
    return sorted(tuple(cells[:3]) for cells in rows.evaluate_all(
        "rows => rows.map(r => Array.from(r.cells).slice(0, 3).map(c => c.innerText.trim()))"))


def wait_for_rows(page: Page, want, what: str, timeout: float = 60) -> list:
    """Poll the open page (no reload: the table refreshes itself) until want(rows) holds."""
    deadline = time.monotonic() + timeout
    rows = []
    while time.monotonic() < deadline:
        rows = dashboard_rows(page)
        if want(rows):
            return rows
        page.wait_for_timeout(500)
    pytest.fail(f"after {timeout:.0f}s the dashboard still does not show {what}; it shows {sorted(rows)}")


def finding_row(page: Page, kind: str, name_prefix: str):
    """The dashboard rows about a `kind` object whose name starts with `name_prefix`."""
    rows = page.locator("table.issues-table tbody tr")
    return (rows.filter(has=page.locator("td:nth-child(1)", has_text=re.compile(rf"^{re.escape(kind)}$")))
            .filter(has=page.locator("td:nth-child(3)", has_text=re.compile(rf"^{re.escape(name_prefix)}"))))


# -- plan dialogs --------------------------------------------------------------------------------

PLAN_BUTTONS = {"remediation": "▶ Remediation plan", "root_cause": "▶ Root-cause plan"}
PLAN_TITLES = {"remediation": "Remediation plan", "root_cause": "Root-cause plan"}


def open_plan_dialog(page: Page, row, mode: str):
    """Press a row's play button; return the open dialog."""
    row.get_by_role("link", name=PLAN_BUTTONS[mode]).click()
    dialog = page.locator("dialog.plan-dialog[open]")
    expect(dialog).to_have_count(1)
    expect(dialog.get_by_role("heading", level=1)).to_contain_text(PLAN_TITLES[mode])
    return dialog


def close_plan_dialog(page: Page, dialog) -> None:
    dialog.get_by_role("button", name="Close the dialog").click()
    expect(page.locator("dialog.plan-dialog[open]")).to_have_count(0)


def generate_and_watch(page: Page, dialog, context: str, timeout: float = 90) -> dict:
    """Type the context, press Generate, and watch the plan arrive.

    Returns the first non-empty text seen while the run was still streaming, the final text and
    the final status; fails if no partial text was ever seen before the run finished.
    """
    dialog.get_by_label(re.compile("What you know")).fill(context)
    dialog.get_by_role("button", name="Generate").click()
    expect(dialog.locator(".plan-status")).to_have_text(re.compile("Generating"))
    sample = """d => ({text: (d.querySelector('.plan-stream-slot .plan-output') || {innerText: ''}).innerText,
                       finished: !!d.querySelector('.plan-stream-slot [data-plan-finished]')})"""
    deadline = time.monotonic() + timeout
    partial = None
    while time.monotonic() < deadline:
        state = dialog.evaluate(sample)
        if state["text"].strip() and not state["finished"] and partial is None:
            partial = state["text"]
        if state["finished"]:
            break
        page.wait_for_timeout(100)
    else:
        pytest.fail(f"the plan did not finish within {timeout:.0f}s")
    finished = dialog.locator(".plan-stream-slot [data-plan-finished]")
    final = dialog.locator(".plan-stream-slot .plan-output").inner_text()
    return {"partial": partial, "final": final, "status": finished.get_attribute("data-status")}


# -- acting on plans -------------------------------------------------------------------------------


def seed_pod_plan(server, namespace: str, plan: str, prefix: str, password: str) -> tuple[str, int]:
    """A developer who may see and change pods in `namespace` only, and their finished plan about
    pod `web` there: (username, run id). Seeded in `server`'s own database."""
    import random
    import uuid

    from app.findings import Finding
    from app.plans import runs
    from app.plans.core.vocabulary import PlanMode, RunStatus
    from tests.support.users import add_user

    with server.in_process_app():
        username = f"{prefix}-{uuid.uuid4().hex[:6]}"
        user_id = add_user(username, id=random.randint(100_000, 2_000_000_000), password=password,
                           grants={namespace: {"pods", "events"}}, changes={namespace: {"pods"}}, sync=True)
        run = runs.create_run(user_id, f"{namespace}-web", Finding(kind="Pod", namespace=namespace, name="web"),
                              PlanMode.REMEDIATION, context_kinds=("pods",))
        runs.finish_run(run.id, RunStatus.DONE, plan)
        return username, run.id
