"""Journey 4: the administrator revokes Alice's grant; her next refresh no longer shows team-a."""

from kubernetes import client
from playwright.sync_api import expect

from tests.browser.browser_helpers import finding_row, grant_row, open_admin_user, wait_for_rows


def test_revoked_namespace_disappears(sessions, granted, team_a_findings, known_issues):
    alice = sessions.alice()
    wait_for_rows(alice, lambda rows: rows and {ns for _, ns, _ in rows} == {"team-a"},
                  "Alice's team-a findings")
    alice.goto("/resources/deployments/team-a/crashloop-api")
    expect(alice.locator("pre.yaml")).to_contain_text("name: crashloop-api")
    alice.goto("/")
    expect(finding_row(alice, "Pod", "crashloop-api-").first).to_be_visible()

    admin = sessions.admin()
    alice_id = open_admin_user(admin, granted.alice.username)
    admin.once("dialog", lambda dialog: dialog.accept())  # hx-confirm asks first
    admin.get_by_role("button", name="Revoke team-a").click()
    expect(admin.locator(".flash-success")).to_have_text("Revoked team-a.")
    expect(grant_row(admin, "team-a")).to_have_count(0)
    rbac = client.RbacAuthorizationV1Api(known_issues.admin())
    left = rbac.list_namespaced_role_binding(
        "team-a", label_selector=f"cluster-codex.io/user-id={alice_id}", _request_timeout=30).items
    assert not left, [b.metadata.name for b in left]

    # The open dashboard refreshes itself: team-a's rows go without Alice doing anything...
    wait_for_rows(alice, lambda rows: not rows, "no rows once team-a is revoked", timeout=40)
    expect(alice.locator("main")).not_to_contain_text("crashloop-api")
    # ...and her next reload tells her she has no namespaces at all.
    alice.reload()
    expect(alice.get_by_text("ask an administrator to grant you access")).to_be_visible()
    expect(alice.locator("main")).not_to_contain_text("team-a")
    response = alice.goto("/resources/deployments/team-a/crashloop-api")
    assert response.status == 404
    expect(alice.locator("main")).not_to_contain_text("apiVersion")
