"""Journey 5: a finding that appears while the dashboard is open shows up without a reload."""

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.browser_helpers import finding_row, wait_for_rows
from tests.support.lab_control import labctl

CHART = Path(__file__).resolve().parent / "charts" / "late-crash"
APPEAR_TIMEOUT = 240  # kwok reports the crash loop, K8sGPT analyses (~10 s), the table polls


def test_new_finding_appears_on_the_open_dashboard(sessions, granted, team_a_findings):
    alice = sessions.alice()
    release = f"late-crash-{granted.tag}"
    before = wait_for_rows(alice, bool, "the team-a findings")
    assert not any(name.startswith(release) for _, _, name in before)
    alice.evaluate("window.codexNoReload = 'still the same page'")

    lab = labctl()
    lab.helm("upgrade", "--install", release, str(CHART), "--namespace", "team-a", "--timeout", "2m")
    try:
        rows = wait_for_rows(
            alice, lambda shown: any(k == "Pod" and n.startswith(f"{release}-") for k, _, n in shown),
            f"the crash-looping pod of {release}", timeout=APPEAR_TIMEOUT)
        assert alice.evaluate("window.codexNoReload") == "still the same page", "the page was reloaded"
        new = [row for row in rows if row[2].startswith(release)]
        assert all(ns == "team-a" for _, ns, _ in new), new
        expect(finding_row(alice, "Pod", f"{release}-").first).to_contain_text(
            re.compile("CrashLoopBackOff|last termination reason is Error"))
    finally:
        lab.helm("uninstall", release, "--namespace", "team-a", "--timeout", "2m", check=False)
