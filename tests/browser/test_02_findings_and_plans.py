"""Journey 2: Alice signs in with SSO, sees exactly team-a's findings, and gets plans for one."""

import re

from playwright.sync_api import expect

from tests.browser.browser_helpers import (
    PLAN_TITLES, close_plan_dialog, finding_keys, finding_row, generate_and_watch, namespace_of,
    open_plan_dialog, wait_for_rows,
)
from tests.lab.test_lab_findings import EXPECTED

# Objects of the team-b and team-c charts: none of these words may appear on Alice's pages.
OTHER_TEAMS = ("oom-worker", "payments", "gpu-trainer", "healthy-api", "reports-data",
               "shop-frontend", "nightly-report", "checkout", "healthy-shop", "team-b", "team-c")
CONTEXT = "We rolled out v2.3 of crashloop-api ten minutes ago; the DB password was rotated."


def test_alice_sees_team_a_findings_and_streams_plans(sessions, granted, team_a_findings, known_issues):
    alice = sessions.alice()
    expect(alice.get_by_role("heading", name="Issues", exact=True)).to_be_visible()

    def team_a_truth():
        return finding_keys(r for r in known_issues.results() if namespace_of(r) == "team-a")

    rows = wait_for_rows(alice, lambda shown: shown and shown == team_a_truth(),
                         "exactly the team-a findings K8sGPT reports")
    assert {ns for _, ns, _ in rows} == {"team-a"}
    for kind, namespace, name_re, _text in (e for v in EXPECTED.values() for e in v):
        if namespace == "team-a":
            assert any(k == kind and re.fullmatch(name_re, n) for k, _, n in rows), (kind, name_re, rows)
    page_text = alice.locator("main").inner_text()
    for word in OTHER_TEAMS:
        assert word not in page_text, f"{word!r} from another team is on Alice's dashboard"
    expect(alice.locator("select[name=ns] option")).to_have_text(["All my namespaces", "team-a"])

    # A remediation plan for the crash-looping pod, with what Alice knows.
    # K8sGPT may report the pod twice (with and without its parent); the one that names the
    # Deployment gets a plan with a rollback, so prefer it when it is there.
    rows = finding_row(alice, "Pod", "crashloop-api-")
    with_parent = rows.filter(has=alice.locator("td:nth-child(5)", has_text="Deployment/crashloop-api"))
    has_parent = with_parent.count() > 0
    row = with_parent.first if has_parent else rows.first
    pod_name = row.locator("td:nth-child(3)").inner_text().strip()
    # K8sGPT's own explanation (explain on, the lab's explainer as its AI backend), in the row and the dialog.
    row.locator("td:nth-child(6) summary", has_text="Explanation").click()
    expect(row.locator("td:nth-child(6) .explanation")).to_contain_text("keeps exiting")
    dialog = open_plan_dialog(alice, row, "remediation")
    expect(dialog.locator(".explanation")).to_contain_text("Solution: 1. Read kubectl logs --previous")
    expect(dialog.locator(".plan-finding")).to_contain_text(f"team-a/{pod_name}")
    expect(dialog.locator(".plan-finding")).to_contain_text("the last termination reason is Error")
    expect(dialog.locator(".plan-history")).to_contain_text("No plans for this finding yet.")
    watched = generate_and_watch(alice, dialog, CONTEXT)
    assert watched["partial"], "no part of the plan was visible before it finished streaming"
    assert len(watched["partial"]) < len(watched["final"])
    assert watched["status"] == "done"
    expect(dialog.get_by_text("Plan finished")).to_be_visible()
    expect(dialog.get_by_role("button", name="Stop")).to_have_count(0)

    # kubectl commands come in blocks with a badge each: read-only and changing ones.
    commands = dialog.locator(".plan-stream-slot .plan-command")
    assert commands.count() >= 2, dialog.inner_html()
    badges = {"read-only": "read-only", "changes-cluster": "changes cluster"}
    effects = []
    for command in commands.all():
        effect = command.get_attribute("data-effect")
        expect(command.locator(".plan-command-bar .badge").first).to_have_text(badges[effect])
        effects.append(effect)
    assert "read-only" in effects, effects
    if has_parent:  # a Deployment to roll back: the plan changes the cluster
        assert "changes-cluster" in effects, effects
    codes = commands.locator("code").all_inner_texts()
    assert all(code.strip().startswith("kubectl") for code in codes), codes
    assert any("team-a" in code for code in codes), codes
    assert dialog.locator(".plan-command .badge-outside").count() == 0

    # Copy a command: the clipboard holds exactly that command.
    first = commands.first
    command_text = first.locator("code").inner_text().strip()
    first.get_by_role("button", name="Copy command").click()
    expect(first.get_by_role("button", name="Copy command")).to_have_text("Copied")
    assert alice.evaluate("navigator.clipboard.readText()").strip() == command_text

    # Act on it, in the dialog: the run view lists the steps; a read-only one runs as Alice.
    dialog.get_by_role("link", name="Act on this plan").click()
    steps = dialog.locator(".plan-step")
    expect(steps.first).to_be_visible()
    runnable = steps.filter(has=alice.get_by_role("button", name="Run", exact=True)).first
    runnable.get_by_role("button", name="Run", exact=True).click()
    expect(runnable.locator(".plan-step-outcome")).to_be_visible()

    # The history of this finding now lists the run.
    expect(dialog.locator(".plan-history li")).to_have_count(1)
    close_plan_dialog(alice, dialog)

    # Then a root-cause plan for the same pod.
    dialog = open_plan_dialog(alice, row, "root_cause")
    watched = generate_and_watch(alice, dialog, "It started after the v2.3 rollout.")
    assert watched["status"] == "done" and watched["partial"]
    assert pod_name in watched["final"] or "crashloop-api" in watched["final"]
    root_cause_text = watched["final"]
    expect(dialog.locator(".plan-history li")).to_have_count(2)
    close_plan_dialog(alice, dialog)

    # Later (a fresh page), both plans reopen from the history.
    alice.reload()
    dialog = open_plan_dialog(alice, row, "remediation")
    history = dialog.locator(".plan-history li")
    expect(history).to_have_count(2)
    expect(history.filter(has_text=PLAN_TITLES["remediation"])).to_contain_text("Done")
    expect(history.filter(has_text=PLAN_TITLES["root_cause"])).to_contain_text("Done")

    history.filter(has_text=PLAN_TITLES["remediation"]).get_by_role("link").click()
    run_view = dialog.locator(".plan-run-view")
    expect(run_view.locator("h2[id^=plan-run-title]")).to_contain_text(f"Remediation plan for Pod team-a/{pod_name}")
    expect(run_view.locator(".plan-user-context")).to_have_text(CONTEXT)
    expect(run_view.locator(".plan-command").first).to_be_visible()
    expect(run_view.locator(".plan-command code").first).to_have_text(command_text)

    history.filter(has_text=PLAN_TITLES["root_cause"]).get_by_role("link").click()
    expect(run_view.locator("h2[id^=plan-run-title]")).to_contain_text(f"Root-cause plan for Pod team-a/{pod_name}")
    assert run_view.locator(".plan-output").inner_text().strip()[:200] == root_cause_text.strip()[:200]
