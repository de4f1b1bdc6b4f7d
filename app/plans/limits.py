"""Per-user limits on plan runs: concurrent streams and runs started per minute."""

from __future__ import annotations

from app.plans.runs import recent_counts


class PlanLimitReached(Exception):
    """The user may not start another run now; ``message`` is shown in the dialog (HTTP 429)."""

    def __init__(self, message, retry_after):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def check_limits(user_id, config):
    """Raise PlanLimitReached when a new run would exceed CODEX_PLAN_MAX_CONCURRENT or _PER_MINUTE."""
    max_concurrent = int(config.get("CODEX_PLAN_MAX_CONCURRENT", 2))
    max_per_minute = int(config.get("CODEX_PLAN_MAX_PER_MINUTE", 10))
    streaming, last_minute = recent_counts(user_id, int(config.get("CODEX_PLAN_STALE_AFTER", 900)))
    if streaming >= max_concurrent:
        raise PlanLimitReached(
            f"You already have {streaming} plan{'s' if streaming != 1 else ''} generating; the limit is "
            f"{max_concurrent} at a time. Stop one or wait for it to finish, then try again.", 5)
    if last_minute >= max_per_minute:
        raise PlanLimitReached(
            f"You started {last_minute} plans in the last minute; the limit is {max_per_minute} per "
            "minute. Wait a minute and try again.", 60)
