"""Journey 7: after signing out, the back button shows no private page."""

import re

from playwright.sync_api import expect

from tests.browser.browser_helpers import finding_row, sign_out

PRIVATE = ("crashloop-api", "bad-image", "healthy-web")


def assert_nothing_private(page, where):
    text = page.locator("body").inner_text()
    leaked = [word for word in PRIVATE if word in text]
    assert not leaked, f"{where}: {page.url} shows {leaked} after sign-out"
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_back_button_after_sign_out(sessions, granted, team_a_findings):
    alice = sessions.alice()
    # The table refreshes itself every 10 s; the app's Result cache may trail the cluster a little.
    expect(finding_row(alice, "Pod", "crashloop-api-").first).to_be_visible(timeout=60_000)
    private_pages = [alice.url]
    response = alice.goto("/resources/pods")
    assert "no-store" in (response.headers.get("cache-control") or ""), response.headers
    expect(alice.locator("table.resource-table")).to_contain_text("crashloop-api")
    private_pages.append(alice.url)
    # A tab switch is an htmx swap that pushes a history entry.
    alice.get_by_role("navigation", name="Resource kinds").get_by_role("link", name="Deployments").click()
    expect(alice).to_have_url(re.compile(r"/resources/deployments$"))
    expect(alice.locator("table.resource-table")).to_contain_text("crashloop-api")
    private_pages.append(alice.url)

    sign_out(alice)
    expect(alice).to_have_url(re.compile(r"/login"))
    assert_nothing_private(alice, "the sign-out page")

    # Back through every private page visited: each must come back as the sign-in page.
    for step in range(len(private_pages)):
        alice.go_back()
        alice.wait_for_load_state()
        alice.wait_for_timeout(300)  # let htmx restore its history snapshot, if it keeps any
        assert_nothing_private(alice, f"back step {step + 1}")
    cached = alice.evaluate("JSON.stringify(Object.assign({}, localStorage))")
    assert not any(word in cached for word in PRIVATE), "private HTML left in localStorage after sign-out"
