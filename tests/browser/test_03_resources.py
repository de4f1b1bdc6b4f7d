"""Journey 3: resource tabs show only the granted kinds and namespace; K9s keys; no peeking."""

import re

from kubernetes import client
from playwright.sync_api import expect

NOT_FOUND = "That object does not exist or you may not see it."


def first_pod(lab, namespace, app):
    pods = client.CoreV1Api(lab.admin()).list_namespaced_pod(
        namespace, label_selector=f"app.kubernetes.io/name={app}", _request_timeout=30).items
    assert pods, f"no {app} pod in {namespace}"
    return pods[0].metadata.name


def resource_rows(page):
    return page.locator("table.resource-table tbody tr")


def test_tabs_keyboard_and_typed_urls(sessions, granted, known_issues):
    alice = sessions.alice()
    alice.get_by_role("link", name="Resources", exact=True).click()
    expect(alice).to_have_url(re.compile(r"/resources/pods$"))
    tabs = alice.get_by_role("navigation", name="Resource kinds").get_by_role("link")
    expect(tabs).to_have_text(["Pods", "Deployments"])
    expect(alice.locator("select[name=ns] option")).to_have_text(["All my namespaces", "team-a"])

    # Pods of team-a only: the namespace column says so on every row.
    expect(resource_rows(alice).first).to_be_visible()
    namespaces = resource_rows(alice).evaluate_all("rows => rows.map(r => r.cells[0].innerText.trim())")
    assert namespaces and set(namespaces) == {"team-a"}, namespaces
    table = alice.locator("table.resource-table")
    for app in ("crashloop-api", "bad-image", "healthy-web"):
        expect(table).to_contain_text(app)
    for other in ("oom-worker", "gpu-trainer", "checkout", "healthy-api", "healthy-shop"):
        expect(table).not_to_contain_text(other)

    # "/" focuses the filter; typing narrows the table without a reload.
    alice.get_by_role("heading", level=1).click()
    alice.keyboard.press("/")
    search = alice.locator("input[data-filter]")
    expect(search).to_be_focused()
    alice.keyboard.type("crashloop")
    expect(alice).to_have_url(re.compile(r"q=crashloop"))
    expect(resource_rows(alice)).to_have_count(1)
    expect(resource_rows(alice).first).to_contain_text("crashloop-api")
    alice.keyboard.press("Escape")

    # ":" opens the kind switcher; a kind that is not granted is refused, an alias works.
    alice.keyboard.press(":")
    switcher = alice.locator("#kind-switcher")
    expect(switcher).to_be_visible()
    alice.keyboard.type("svc")
    alice.keyboard.press("Enter")
    expect(switcher.get_by_role("alert")).to_have_text("No such kind among yours.")
    alice.locator("#kind-switcher-input").fill("")
    alice.keyboard.type("deploy")
    alice.keyboard.press("Enter")
    expect(alice).to_have_url(re.compile(r"/resources/deployments$"))
    expect(alice.get_by_role("heading", level=1)).to_have_text("Deployments")
    deployments = alice.locator("table.resource-table")
    for name in ("crashloop-api", "bad-image", "healthy-web"):
        expect(deployments).to_contain_text(name)
    expect(deployments).not_to_contain_text("oom-worker")

    # A row opens the detail view of an object in a granted namespace.
    alice.get_by_role("link", name="crashloop-api", exact=True).click()
    expect(alice.get_by_role("heading", level=1)).to_contain_text("team-a/crashloop-api")
    expect(alice.locator("pre.yaml")).to_contain_text("name: crashloop-api")

    # URLs typed by hand: team-b objects (existing or not) and an ungranted kind are "not found".
    oom_pod = first_pod(known_issues, "team-b", "oom-worker")
    for path in (f"/resources/pods/team-b/{oom_pod}", "/resources/deployments/team-b/oom-worker",
                 "/resources/deployments/team-b/no-such-deployment",
                 "/resources/services/team-a/healthy-web", "/resources/pods?ns=team-b"):
        response = alice.goto(path)
        assert response.status == 404, (path, response.status)
        expect(alice.get_by_role("heading", level=1)).to_contain_text("Not found")
        expect(alice.locator("body")).not_to_contain_text("oom-worker-")
        expect(alice.locator("body")).not_to_contain_text("apiVersion")
