"""Build the chat messages for a plan from the templates in ``app/plans/core/prompts/``."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import jinja2

from app.config import Config
from app.findings import Finding
from app.plans.core.context import GatheredContext
from app.plans.core.vocabulary import MODES
from app.redact import redact_text

USER_CONTEXT_LIMIT = Config.CODEX_PLAN_CONTEXT_LIMIT  # characters; the app passes its own setting


class PromptError(ValueError):
    """A request that cannot become a prompt; ``str(error)`` is safe to show the user."""


class ContextTooLong(PromptError):
    def __init__(self, length: int, limit: int):
        self.length, self.limit = length, limit
        super().__init__(f"Your context is {length:,} characters long; the limit is {limit:,}. "
                         "Shorten it to the facts that matter (what changed, when, what you tried) and try again.")


class UnknownMode(PromptError):
    def __init__(self, mode: str):
        super().__init__(f"Unknown plan type {mode!r}; expected one of: {', '.join(MODES)}.")


def fence(body: str) -> str:
    """A backtick fence longer than any backtick run inside ``body``."""
    longest = max((len(run) for run in re.findall(r"`+", body or "")), default=0)
    return "`" * max(3, longest + 1)


@functools.cache
def _environment() -> jinja2.Environment:
    # Markdown for a model, not HTML for a browser: autoescaping would corrupt YAML and logs.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "prompts"),
                             autoescape=False, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
    env.globals["fence"] = fence
    return env


def clean_user_context(text: str | None, limit: int = USER_CONTEXT_LIMIT) -> str:
    """Strip and redact the user's notes; raise ContextTooLong beyond ``limit`` characters."""
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise ContextTooLong(len(text), limit)
    return redact_text(text)


def build_messages(finding: Finding, mode: str, user_context: str | None = "",
                   gathered: GatheredContext | None = None, *,
                   user_context_limit: int = USER_CONTEXT_LIMIT) -> list[dict[str, str]]:
    """The [system, user] messages for a plan of one of the MODES (its template is ``<mode>.md.j2``)."""
    if mode not in MODES:
        raise UnknownMode(mode)
    template = _environment().get_template(f"{mode}.md.j2")
    values = {
        "finding": finding,
        "finding_json": json.dumps(finding.as_prompt_dict(), indent=2, ensure_ascii=False),
        "user_context": clean_user_context(user_context, user_context_limit),
        "gathered": gathered,
    }
    def render(block: str) -> str:
        return "".join(template.blocks[block](template.new_context(values))).strip() + "\n"
    return [{"role": "system", "content": render("system")}, {"role": "user", "content": render("user")}]


def prompt_as_text(messages: list[dict[str, str]]) -> str:
    """The messages as one readable document (what an administrator sees as "the prompt sent")."""
    return "\n\n".join(f"===== {m['role']} =====\n{m['content']}" for m in messages)
