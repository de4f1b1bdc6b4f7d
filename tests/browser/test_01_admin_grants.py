"""Journey 1: an administrator signs in locally and grants namespaces and kinds."""

import re

from kubernetes import client
from playwright.sync_api import expect

from app.kinds import KIND_NAMES as KINDS
from tests.browser.browser_helpers import (
    PASSWORD, add_grant, create_local_user, grant_row, open_admin_user, sign_in_sso, wait_for_rows,
    wait_for_team_findings,
)


def test_admin_creates_grants_that_reach_the_cluster(sessions, cast, known_issues):
    # Alice signs in with SSO before anybody granted her anything: she is told to ask.
    alice = sessions.new_page("alice")
    sign_in_sso(alice, cast.alice.sub)
    expect(alice.get_by_text("ask an administrator to grant you access")).to_be_visible()
    expect(alice.locator("table.issues-table")).to_have_count(0)

    admin = sessions.admin()
    expect(admin.locator(".whoami")).to_contain_text("admin")
    admin.get_by_role("link", name="Admin", exact=True).click()
    expect(admin.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    alice_row = admin.locator("#admin-panel table.data tbody tr").filter(has_text=cast.alice.username)
    expect(alice_row).to_contain_text("SSO")

    create_local_user(admin, cast.bob.username, cast.bob.password, "Bob Builder")

    alice_id = open_admin_user(admin, cast.alice.username)
    expect(admin.get_by_text("Signs in with SSO.")).to_be_visible()
    add_grant(admin, "team-a", ["pods", "deployments"])
    expect(admin.locator(".flash-success")).to_have_text("Granted deployments, pods in team-a.")
    row = grant_row(admin, "team-a")
    expect(row).to_contain_text("Deployments")
    expect(row).to_contain_text("Pods")
    expect(row).not_to_contain_text("Services")
    expect(row).to_contain_text("synced")

    bob_id = open_admin_user(admin, cast.bob.username)
    add_grant(admin, "team-b", None)
    expect(admin.locator(".flash-success")).to_contain_text("Granted")
    row = grant_row(admin, "team-b")
    for label in ("Pods", "Deployments", "Services", "Ingresses", "Events", "Secrets"):
        expect(row).to_contain_text(label)
    expect(row).to_contain_text("synced")
    cast.ids.update({cast.alice.username: alice_id, cast.bob.username: bob_id})

    # The cluster agrees: Alice's bindings are exactly pods and deployments in team-a.
    rbac = client.RbacAuthorizationV1Api(known_issues.admin())
    bindings = rbac.list_namespaced_role_binding(
        "team-a", label_selector=f"cluster-codex.io/user-id={alice_id}", _request_timeout=30).items
    assert {b.metadata.name for b in bindings} == {f"cluster-codex-{alice_id}-pods",
                                                  f"cluster-codex-{alice_id}-deployments"}
    bob_kinds = rbac.list_namespaced_role_binding(
        "team-b", label_selector=f"cluster-codex.io/user-id={bob_id}", _request_timeout=30).items
    assert len(bob_kinds) == len(KINDS), sorted(b.metadata.name for b in bob_kinds)

    # The audit log names both grants.
    admin.get_by_role("link", name=re.compile("Audit", re.I)).first.click()
    expect(admin.locator("#admin-panel")).to_contain_text(f"{cast.alice.username} team-a")
    expect(admin.locator("#admin-panel")).to_contain_text(f"{cast.bob.username} team-b")

    # Alice's next page load shows her team's issues -- once K8sGPT has reported them: on a lab
    # started seconds ago its first analysis is still under way, so wait for it in the cluster.
    wait_for_team_findings(known_issues, "team-a")
    alice.reload()
    rows = wait_for_rows(alice, bool, "Alice's team-a findings")
    assert {ns for _, ns, _ in rows} == {"team-a"}, rows


def test_admin_sets_and_lowers_a_change_level(sessions, cast, known_issues):
    admin = sessions.admin()
    carol = f"carol-{cast.tag}"
    create_local_user(admin, carol, PASSWORD, "Carol Changer")
    carol_id = open_admin_user(admin, carol)
    form = admin.locator("form", has=admin.get_by_role("button", name="Grant", exact=True))
    rbac = client.RbacAuthorizationV1Api(known_issues.admin())

    def carol_bindings():
        items = rbac.list_namespaced_role_binding(
            "team-a", label_selector=f"cluster-codex.io/user-id={carol_id}", _request_timeout=30).items
        return {b.metadata.name: b.role_ref.name for b in items}

    # Change without the kind itself is refused beside the boxes, and nothing is granted.
    form.get_by_label("Namespace").fill("team-a")
    form.locator("input[type=checkbox][name=kinds][value='pods']").check()
    form.get_by_label("May change Services").check()
    form.get_by_role("button", name="Grant", exact=True).click()
    expect(admin.locator("#admin-panel .field-error")).to_have_text(
        "Also grant Services: a user may change only kinds they may see.")
    expect(grant_row(admin, "team-a")).to_have_count(0)

    form = admin.locator("form", has=admin.get_by_role("button", name="Grant", exact=True))
    expect(form.locator("input[name=kinds][value=pods]")).to_be_checked()  # the form kept its input
    form.get_by_label("May change Services").uncheck()
    form.locator("input[type=checkbox][name=kinds][value='deployments']").check()
    form.get_by_label("May change Deployments").check()
    expect(form.locator("input[name=change][value=events]")).to_have_count(0)  # view only
    form.get_by_role("button", name="Grant", exact=True).click()
    expect(admin.locator(".flash-success")).to_have_text(
        "Granted deployments, pods in team-a; may change deployments.")
    row = grant_row(admin, "team-a")
    expect(row.locator("td.grant-change")).to_have_text("Deployments")
    expect(row).to_contain_text("synced")
    assert carol_bindings()[f"cluster-codex-{carol_id}-change-deployments"] == "cluster-codex:change:deployments"

    # Edit lowers deployments to view: the page's own URL, then back on the user's page.
    row.get_by_role("link", name="Edit team-a").click()
    expect(admin).to_have_url(re.compile(rf"/admin/users/{carol_id}/grants/\d+$"))
    change = admin.get_by_label("May change Deployments")
    expect(change).to_be_checked()
    change.uncheck()
    admin.get_by_role("button", name="Save").click()
    expect(admin.locator(".flash-success")).to_have_text(f"{carol} now has deployments, pods in team-a.")
    expect(admin).to_have_url(re.compile(rf"/admin/users/{carol_id}$"))
    expect(grant_row(admin, "team-a").locator("td.grant-change")).to_have_text("view only")
    assert carol_bindings() == {f"cluster-codex-{carol_id}-pods": "cluster-codex:view:pods",
                                f"cluster-codex-{carol_id}-deployments": "cluster-codex:view:deployments"}

    admin.once("dialog", lambda dialog: dialog.accept())
    grant_row(admin, "team-a").get_by_role("button", name="Revoke team-a").click()
    expect(admin.locator(".flash-success")).to_have_text("Revoked team-a.")
    assert carol_bindings() == {}
