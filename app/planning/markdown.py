"""Render a plan (untrusted model output) to safe HTML with one badge-carrying block per command."""

from __future__ import annotations

import functools
import time
from collections.abc import Collection

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

from app.planning.commands import CHANGES, KubectlCommand, split_code

ALLOWED_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "code", "pre", "blockquote",
    "a", "hr", "br", "table", "thead", "tbody", "tr", "th", "td", "del", "s", "div", "span", "button",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "div": {"data-effect"},
    "span": {"title"},
    "button": {"type", "aria-label"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
LANGUAGES = {"bash", "sh", "shell", "console", "yaml", "json", "text", "python", "go", "dockerfile", "diff",
             "toml", "ini", "promql", "sql", "javascript", "typescript", "java", "hcl"}
ALLOWED_CLASSES = {
    "code": {f"language-{lang}" for lang in LANGUAGES},
    "div": {"plan-command", "plan-command-bar"},
    "span": {"badge", "badge-read-only", "badge-changes", "badge-outside"},
    "button": {"plan-copy"},
}


def _command_html(text: str, command: KubectlCommand, allowed: Collection[str] | None) -> str:
    changes = command.effect == CHANGES
    badges = [f'<span class="badge {"badge-changes" if changes else "badge-read-only"}">'
              f'{"changes cluster" if changes else "read-only"}</span>']
    outside = command.namespaces_outside(allowed) if allowed is not None else ()
    if outside:
        names = ", ".join("all namespaces" if ns == "*" else ns for ns in outside)
        badges.append(f'<span class="badge badge-outside" title="You have no grant for {escapeHtml(names)}">'
                      f"namespace not granted: {escapeHtml(names)}</span>")
    return (f'<div class="plan-command" data-effect="{command.effect}">'
            f'<div class="plan-command-bar">{"".join(badges)}'
            '<button type="button" class="plan-copy" aria-label="Copy command">Copy</button></div>'
            f'<pre><code class="language-bash">{escapeHtml(text)}</code></pre></div>\n')


def _code_html(text: str, lang: str) -> str:
    css = f' class="language-{lang}"' if lang in LANGUAGES else ""
    return f"<pre><code{css}>{escapeHtml(text)}\n</code></pre>\n"


def _render_code(self, tokens, idx, options, env):
    token = tokens[idx]
    lang = (token.info or "").split()[0] if token.info else ""
    if lang in ("", "bash", "sh", "shell", "console", "zsh") and "kubectl" in token.content:
        allowed = env.get("allowed_namespaces")
        return "".join(_command_html(text, cmd, allowed) if cmd else _code_html(text, lang)
                       for text, cmd in split_code(token.content))
    return _code_html(token.content.rstrip("\n"), lang)


@functools.cache
def _markdown() -> MarkdownIt:
    # Built once: rendering is stateless (per-call state lives in ``env``), so threads can share it.
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("fence", _render_code)
    md.add_render_rule("code_block", _render_code)
    return md


def render_plan(markdown_text: str, allowed_namespaces: Collection[str] | None = None) -> str:
    """Safe HTML for a plan; commands aimed at namespaces outside ``allowed_namespaces`` are flagged."""
    html = _markdown().render(markdown_text or "", {"allowed_namespaces": allowed_namespaces})
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, allowed_classes=ALLOWED_CLASSES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow",
                     strip_comments=True)


class PlanHtmlStream:
    """Collect a streamed plan and hand out re-rendered HTML at most every ``interval`` seconds.

    Rendering the whole plan costs a few milliseconds, so an SSE endpoint should not redo it for
    every word: ``feed`` returns HTML only when it is due, ``finish`` always returns the final HTML.
    """

    def __init__(self, allowed_namespaces: Collection[str] | None = None, interval: float = 0.15):
        self.allowed_namespaces = allowed_namespaces
        self.interval = interval
        self.parts: list[str] = []
        self._last = float("-inf")

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def feed(self, delta: str) -> str | None:
        self.parts.append(delta)
        now = time.monotonic()
        if now - self._last < self.interval:
            return None
        self._last = now
        return render_plan(self.text, self.allowed_namespaces)

    def finish(self) -> str:
        return render_plan(self.text, self.allowed_namespaces)
