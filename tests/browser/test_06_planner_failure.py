"""Journey 6: the planner dies mid-stream; the dialog says so clearly and history records it."""

import re

from playwright.sync_api import expect

from tests.browser.browser_helpers import PLAN_TITLES, finding_row, generate_and_watch, open_plan_dialog

# Offline planner test marker: write slowly (100 ms a word), close the stream after 20 words.
CUT = "[[planner:cut_after=20,slow_ms=100]]"


def test_planner_failing_mid_stream(sessions, granted, team_a_findings):
    alice = sessions.alice()
    row = finding_row(alice, "Pod", "bad-image-").first
    expect(row).to_be_visible(timeout=60_000)  # the table refreshes itself every 10 s
    dialog = open_plan_dialog(alice, row, "remediation")
    watched = generate_and_watch(alice, dialog, f"The image tag was bumped this morning. {CUT}")
    assert watched["status"] == "failed"
    assert watched["partial"], "the first part of the plan never showed"

    alert = dialog.locator(".plan-stream-slot [data-plan-finished]").get_by_role("alert")
    expect(alert).to_have_text(re.compile(r"before the plan was finished"))
    expect(dialog.get_by_text("Plan finished")).to_have_count(0)
    expect(dialog.get_by_role("button", name="Stop")).to_have_count(0)
    expect(dialog.locator(".plan-status")).to_have_count(0)

    history = dialog.locator(".plan-history li").filter(has_text=PLAN_TITLES["remediation"])
    failed = history.filter(has=alice.locator(".badge", has_text=re.compile("^Failed$")))
    expect(failed).to_have_count(1)
    failed.get_by_role("link").click()
    run_view = dialog.locator(".plan-run-view")
    expect(run_view.locator(".plan-meta .badge")).to_have_text("Failed")
    expect(run_view.get_by_role("status")).to_contain_text("before the plan was finished")
    # The text that did arrive is kept with the run.
    assert run_view.locator(".plan-output").inner_text().strip()
