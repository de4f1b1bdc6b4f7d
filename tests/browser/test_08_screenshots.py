"""The README's screenshots, taken by the suite itself (SCREENSHOTS=1 writes docs/screenshots/).

Without SCREENSHOTS=1 the pictures go to a temporary folder, so the pages are still checked to
render; `scripts/screenshots` runs only this test with SCREENSHOTS=1.
"""

import os
import struct
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.browser_helpers import finding_row, open_admin_user, open_plan_dialog

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
NAMES = ("dashboard.png", "plan-streaming.png", "resource-tab.png", "admin-grants.png")


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def test_readme_screenshots(sessions, granted, team_a_findings, tmp_path):
    out = DOCS if os.environ.get("SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)

    admin = sessions.admin()
    open_admin_user(admin, granted.alice.username)
    expect(admin.locator("#admin-panel table.data")).to_contain_text("team-a")
    admin.screenshot(path=out / "admin-grants.png")

    alice = sessions.alice()
    expect(finding_row(alice, "Pod", "crashloop-api-").first).to_be_visible(timeout=60_000)
    alice.screenshot(path=out / "dashboard.png")

    dialog = open_plan_dialog(alice, finding_row(alice, "Pod", "crashloop-api-").first, "remediation")
    dialog.get_by_label("What you know").fill("We rolled out v2.3 ten minutes ago.")
    dialog.get_by_role("button", name="Generate").click()
    # Catch it mid-stream: some commands written, the run not finished yet.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = dialog.evaluate("d => [d.querySelectorAll('.plan-stream-slot .plan-command').length,"
                                " !!d.querySelector('.plan-stream-slot [data-plan-finished]')]")
        if state[1]:
            pytest.fail("the plan finished before two command blocks were seen streaming")
        if state[0] >= 2:
            break
        alice.wait_for_timeout(50)
    # The run's status bar ("Generating the plan…", Stop) at the top, the plan as written so far.
    dialog.locator(".plan-stream-slot").evaluate("el => el.scrollIntoView({block: 'start'})")
    expect(dialog.locator(".plan-status")).to_be_in_viewport()
    alice.screenshot(path=out / "plan-streaming.png")
    expect(dialog.get_by_text("Plan finished")).to_be_visible(timeout=90_000)
    dialog.get_by_role("button", name="Close the dialog").click()

    alice.goto("/resources/pods")
    expect(alice.locator("table.resource-table")).to_contain_text("crashloop-api")
    alice.screenshot(path=out / "resource-tab.png")

    for name in NAMES:
        width, height = png_size(out / name)
        assert (width, height) == (1366, 900), (name, width, height)
        assert (out / name).stat().st_size > 20_000, f"{name} looks blank"
