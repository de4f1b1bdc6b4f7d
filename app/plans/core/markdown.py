"""Render a plan (untrusted model output) to safe HTML with one badge-carrying block per command.

The plan is shown below a page or dialog title, so its headings are shifted down two levels
(``#`` renders as ``h3``, ``##`` as ``h4``, ... capped at ``h6``); ``h1``/``h2`` are never emitted.
While a plan is still streaming (``streaming=True``), the command still being written -- the last
one of a code block that has not been closed yet -- gets no badge: "kubectl" alone is not yet a
command that changes the cluster. It is badged once its block is closed, or when the plan ends.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Collection

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

from app.plans.core.commands import CHANGES, KubectlCommand, split_code

HEADING_SHIFT = 2  # the plan sits below an h1 (dialog) or h2 (run page): "#" becomes h3
ALLOWED_TAGS = {
    "p", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "code", "pre", "blockquote",
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
    "div": {"plan-command", "plan-command-pending", "plan-command-bar"},
    "span": {"badge", "badge-read-only", "badge-changes", "badge-outside"},
    "button": {"plan-copy"},
}


def _pending_command_html(text: str) -> str:
    """A command still being written: same block and Copy button, but no badge yet."""
    return ('<div class="plan-command plan-command-pending">'
            '<div class="plan-command-bar">'
            '<button type="button" class="plan-copy" aria-label="Copy command">Copy</button></div>'
            f'<pre><code class="language-bash">{escapeHtml(text)}</code></pre></div>\n')


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
        segments = split_code(token.content)
        growing = len(segments) - 1 if token.meta.get("open") and segments and segments[-1][1] else -1
        return "".join(_pending_command_html(text) if index == growing
                       else _command_html(text, cmd, allowed) if cmd else _code_html(text, lang)
                       for index, (text, cmd) in enumerate(segments))
    return _code_html(token.content.rstrip("\n"), lang)


@functools.cache
def _markdown() -> MarkdownIt:
    # Built once: rendering is stateless (per-call state lives in ``env``), so threads can share it.
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("fence", _render_code)
    md.add_render_rule("code_block", _render_code)
    return md


def _fence_closed(token, lines: list[str]) -> bool:
    """Whether a fence token ends with its closing fence (an unclosed one runs to the end of the text)."""
    start, end = token.map
    if end - 1 <= start or end > len(lines):
        return False
    last = re.sub(r"^[\s>]*", "", lines[end - 1])  # list indentation and blockquote markers
    char, size = token.markup[0], len(token.markup)
    return re.fullmatch(rf"{re.escape(char)}{{{size},}}[ \t]*", last) is not None


def _prepare(tokens, text: str, streaming: bool) -> None:
    """Shift headings down; when streaming, mark the code block that may still grow as open."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + HEADING_SHIFT, 6)}"
        elif streaming and token.type in ("fence", "code_block") and token.map:
            at_end = not any(line.strip() for line in lines[token.map[1]:])
            if at_end and not (token.type == "fence" and _fence_closed(token, lines)):
                partial = rf"(^|\n)[ \t]*{re.escape(token.markup[0])}+[ \t]*$" if token.type == "fence" else ""
                if partial and re.search(partial, token.content):
                    # The closing fence is half-written ("``"): not content, and the block is complete.
                    token.content = re.sub(partial, "", token.content)
                else:
                    token.meta["open"] = True


def render_plan(markdown_text: str, allowed_namespaces: Collection[str] | None = None,
                streaming: bool = False) -> str:
    """Safe HTML for a plan; commands aimed at namespaces outside ``allowed_namespaces`` are flagged.

    ``streaming``: the text may still grow, so the command being written at its end is not badged yet.
    """
    md, text = _markdown(), markdown_text or ""
    env = {"allowed_namespaces": allowed_namespaces}
    tokens = md.parse(text, env)
    _prepare(tokens, text, streaming)
    html = md.renderer.render(tokens, md.options, env)
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
        return render_plan(self.text, self.allowed_namespaces, streaming=True)

    def finish(self) -> str:
        return render_plan(self.text, self.allowed_namespaces)
