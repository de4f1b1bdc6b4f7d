"""One call from a K8sGPT Result to the exact messages a plan sends (validated, gathered, redacted)."""

from __future__ import annotations

from dataclasses import dataclass

from app.plans.core.context import DEFAULT_BUDGET_BYTES, ContextGateway, GatheredContext, gather_context
from app.plans.core.finding import Finding
from app.plans.core.prompts import (MODES, USER_CONTEXT_LIMIT, UnknownMode, build_messages, clean_user_context,
                                  prompt_as_text)


@dataclass(frozen=True)
class PreparedPlan:
    finding: Finding
    mode: str
    user_context: str  # as sent: stripped and redacted
    gathered: GatheredContext
    messages: list[dict[str, str]]

    @property
    def prompt_text(self) -> str:
        """Exactly what is sent to the model, for the administrator's "show prompt" view."""
        return prompt_as_text(self.messages)


def prepare_plan(gateway: ContextGateway, result: dict, mode: str, user_context: str | None = "", *,
                 budget_bytes: int = DEFAULT_BUDGET_BYTES,
                 user_context_limit: int = USER_CONTEXT_LIMIT) -> PreparedPlan:
    """Validate the request first (mode, context length), then read the cluster as the gateway's user."""
    if mode not in MODES:
        raise UnknownMode(mode)
    cleaned = clean_user_context(user_context, user_context_limit)  # ContextTooLong before any cluster read
    finding = Finding.from_result(result)
    gathered = gather_context(gateway, finding, budget_bytes=budget_bytes)
    messages = build_messages(finding, mode, cleaned, gathered, user_context_limit=user_context_limit)
    return PreparedPlan(finding, mode, cleaned, gathered, messages)
