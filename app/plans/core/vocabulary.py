"""The words of plans, defined once: what a plan is for (its mode) and where a run stands (its
status), each with the label users read.

Members are strings (``StrEnum``): the value is what URLs, forms, prompt template names and the
``plan_runs`` columns carry, so a member compares equal to a stored or posted value and binds to
SQL as that value. Templates get the enums and the label mappings as Jinja globals.
"""

from __future__ import annotations

from enum import StrEnum


class _Labelled(StrEnum):
    label: str

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def named(cls, value: object):
        """The member whose value is ``value``, or None (an unknown mode in a URL, say)."""
        return next((member for member in cls if member.value == value), None)


class PlanMode(_Labelled):
    """What a plan is for, in the order the dashboard offers them."""

    REMEDIATION = "remediation", "Remediation plan"
    ROOT_CAUSE = "root_cause", "Root-cause plan"


class RunStatus(_Labelled):
    """Where a plan run stands; every status but STREAMING is final."""

    STREAMING = "streaming", "Streaming"
    DONE = "done", "Done"
    STOPPED = "stopped", "Stopped"
    FAILED = "failed", "Failed"
    INTERRUPTED = "interrupted", "Interrupted"

    @property
    def failure(self) -> bool:
        """True when the run ended without a plan because something went wrong."""
        return self in (RunStatus.FAILED, RunStatus.INTERRUPTED)


MODES = tuple(PlanMode)
FINAL_STATUSES = tuple(status for status in RunStatus if status is not RunStatus.STREAMING)
# Value -> label, for templates that look a stored run up (a plain value finds its member's entry).
MODE_LABELS = {mode: mode.label for mode in PlanMode}
STATUS_LABELS = {status: status.label for status in RunStatus}
