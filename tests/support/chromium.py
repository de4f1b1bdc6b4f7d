"""Debian's Chromium for every browser test: where it is, how it is launched, and a watch on
Content-Security-Policy violations (the browser journeys fail on any).

Playwright's own browser download is refused by the closed network: Chromium comes from
Debian (scripts/bootstrap installs it). The flags keep Chromium from calling home.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


# Runs in every document before its own scripts. The binding outlives navigations, which a
# window-level list would not.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => window.__codexCspViolation({
  directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample,
  source: e.sourceFile, line: e.lineNumber, page: e.documentURI}), true);
"""


class CspWatch:
    """Every CSP violation in one browser context: the DOM event and Chromium's console message."""

    def __init__(self, context):
        self.events: list[dict] = []
        self.console: list[str] = []
        context.expose_binding("__codexCspViolation", lambda source, v: self.events.append(v))
        context.add_init_script(_CSP_LISTENER)
        context.on("console", self._on_console)

    def _on_console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.console.append(f"{message.page.url if message.page else '?'}: {message.text}")

    def report(self) -> str:
        """Empty when nothing was blocked; else one line per violation."""
        lines = [f"{v['page']}: {v['directive']} blocked {v['blocked'] or '?'}"
                 f" ({v['source']}:{v['line']}) {v['sample']!r}" for v in self.events]
        return "\n".join(lines + [f"console: {line}" for line in self.console])


def launch_args(base: dict | None = None) -> dict:
    """Playwright launch options for Debian's Chromium (a clear failure when it is missing)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/bootstrap does)")
    return {**(base or {}), "executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}
