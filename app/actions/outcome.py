"""The words of actions, defined once: what was asked (ActionKind), how it ended (ActionStatus), why
(Reason, with its HTTP status), and the `Outcome` the service returns. Also how a kubectl failure
reads in plain words. Flask-free.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from app.actions.kubectl import KubectlResult


class ActionKind(StrEnum):
    """What the user asked for: the values the plan_actions rows and the step URLs carry."""

    RUN = "run"  # a read-only step, run as the user
    DRY_RUN = "dry-run"  # a changing step, with --dry-run=server
    APPLY = "apply"  # a changing step for real, after its dry-run
    VERIFY = "verify"  # after an Apply: did K8sGPT drop the finding? (app.actions.verification)
    REQUEST = "request"  # CODEX_APPROVAL=admin: ask an administrator to approve the Apply

    @property
    def label(self) -> str:
        return {"run": "Run", "dry-run": "Dry-run", "apply": "Apply", "verify": "Verification",
                "request": "Request approval"}[self.value]


class ActionStatus(StrEnum):
    """How an action ended."""

    ACCEPTED = "accepted"  # kubectl ran and the API server said yes
    REFUSED = "refused"  # refused before kubectl started (the app's rules, or the object's read)
    FAILED = "failed"  # kubectl ran and failed, timed out, could not start, or the cluster is down


class ApprovalState(StrEnum):
    """Where a request for an administrator's approval stands (app.actions.approvals)."""

    PENDING = "pending"
    APPLIED = "applied"  # approved, dry-run again and applied as the requester
    REJECTED = "rejected"
    EXPIRED = "expired"  # nobody decided within CODEX_APPROVAL_EXPIRES_AFTER
    FAILED = "failed"  # approved, but the new dry-run or the Apply did not go through
    CANCELLED = "cancelled"  # withdrawn by the requester before anyone decided

    @property
    def label(self) -> str:
        return {"pending": "Awaiting approval", "applied": "Approved and applied", "rejected": "Rejected",
                "expired": "Expired", "failed": "Approved, not applied", "cancelled": "Cancelled"}[self.value]


class Reason(StrEnum):
    """Why an action ended as it did, one word each, with the HTTP status it answers with."""

    status_code: int

    def __new__(cls, value: str, status_code: int):
        member = str.__new__(cls, value)
        member._value_ = value
        member.status_code = status_code
        return member

    OK = "ok", 200
    STILL_REPORTED = "still-reported", 200  # verification: K8sGPT still reports the finding
    HIDDEN = "hidden", 404  # the run is not readable (or does not exist): never say which
    NOT_OWNER = "not-owner", 403
    READ_ONLY = "read-only", 403  # CODEX_ACTIONS off
    LIMIT = "limit", 429
    PARSER = "parser", 422  # the strict parser refused the text
    WRONG_ACTION = "wrong-action", 422  # Run of a changing step, Dry-run of a read
    GRANT = "grant", 403  # the app's own grant check
    NO_DRY_RUN = "no-dry-run", 409
    DRY_RUN_EXPIRED = "dry-run-expired", 409
    DRY_RUN_USED = "dry-run-used", 409  # the dry-run was applied already, or a later one failed
    CHANGED = "changed", 409  # the object's resourceVersion moved since the dry-run
    NEEDS_APPROVAL = "needs-approval", 403  # CODEX_APPROVAL=admin: the requester may not apply
    APPROVAL_OFF = "approval-off", 422  # a request for approval while users apply their own
    REQUEST_PENDING = "request-pending", 409  # this command awaits an administrator already
    FORBIDDEN = "forbidden", 403  # the API server's RBAC
    NOT_FOUND = "not-found", 404
    INVALID = "invalid", 422  # validation
    ADMISSION = "admission", 403  # an admission webhook or policy denied it
    CONFLICT = "conflict", 409
    TIMEOUT = "timeout", 504
    UNREACHABLE = "unreachable", 503
    UNAUTHORIZED = "unauthorized", 503  # the app's own credentials were refused
    KUBECTL_MISSING = "kubectl-missing", 503
    ERROR = "error", 502  # kubectl exited non-zero for another reason


@dataclass(frozen=True)
class Outcome:
    """What the service answers for one Run, Dry-run or Apply; `message` is shown beside the step.

    `before`/`after` (dry-run) are the objects as YAML, redacted, managedFields dropped: the object
    read as the user and the API server's answer; `diff` is a unified diff of the two.
    """

    action: ActionKind
    status: ActionStatus
    reason: Reason
    message: str
    output: str = ""
    diff: str = ""
    before: str = ""
    after: str = ""
    verb: str | None = None
    namespace: str | None = None
    kind: str | None = None
    name: str | None = None
    identity: str | None = None  # the Kubernetes identity kubectl runs (or would run) as
    exit_code: int | None = None
    duration: float | None = None  # seconds kubectl took
    timed_out: bool = False
    retry_after: int | None = None  # seconds, with Reason.LIMIT
    record_id: int | None = None  # the PlanAction row
    request_id: int | None = None  # the ApprovalRequest a Request approval opened

    @property
    def status_code(self) -> int:
        return self.reason.status_code

    @property
    def ok(self) -> bool:
        return self.status is ActionStatus.ACCEPTED


# Checked in this order: an admission denial is also "forbidden", a webhook timeout also "timeout".
_FAILURES: tuple[tuple[Reason, re.Pattern, str], ...] = tuple((reason, re.compile(pattern, re.I), words) for
                                                             reason, pattern, words in (
    (Reason.ADMISSION, r"admission webhook .* denied|ValidatingAdmissionPolicy|denied the request|"
                       r"admission plugin", "An admission policy of the cluster denied it"),
    (Reason.UNAUTHORIZED, r"\(Unauthorized\)|must be logged in", "The API server did not accept the app's "
                                                                 "credentials"),
    (Reason.FORBIDDEN, r"\(Forbidden\)|is forbidden|cannot \w+ resource",
     "The API server refused it: your Kubernetes identity may not do this (RBAC)"),
    (Reason.UNREACHABLE, r"Unable to connect to the server|connection refused|no such host|i/o timeout|"
                         r"TLS handshake|\(ServiceUnavailable\)|\(InternalError\)|currently unable to handle|"
                         r"\(Timeout\)|context deadline exceeded",
     "The cluster could not be reached (or answered with a server error)"),
    (Reason.NOT_FOUND, r"\(NotFound\)|not found", "The object (or its namespace) does not exist"),
    (Reason.INVALID, r"\(Invalid\)|is invalid|request is invalid|\(BadRequest\)|Invalid value",
     "The API server found the change invalid"),
    (Reason.CONFLICT, r"\(Conflict\)|\(AlreadyExists\)|has been modified", "The object changed or already exists"),
))


def failure_of(result: KubectlResult) -> tuple[Reason, str]:
    """A failed kubectl run in plain words: the reason and the sentence shown beside the step."""
    if result.timed_out:
        return Reason.TIMEOUT, f"kubectl did not finish within {result.duration:.0f} s and was stopped"
    said = _first_error(result.stderr or result.stdout)
    for reason, pattern, words in _FAILURES:
        if pattern.search(result.stderr or "") or (not result.stderr and pattern.search(result.stdout or "")):
            return reason, f"{words}. kubectl said: {said}" if said else words
    words = f"kubectl exited with code {result.exit_code}"
    return Reason.ERROR, f"{words}. kubectl said: {said}" if said else words


def _first_error(text: str, size: int = 300) -> str:
    line = next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
    return line if len(line) <= size else line[:size] + "…"
