"""K8sGPT findings: Result objects parsed into Findings, kept in a per-process store, filtered
by the user's grants.

Policy (documented in the README's dashboard section): a Result is shown to a user when the
namespace of the affected object (``spec.name`` = ``namespace/name``) is granted to them,
whatever kinds the grant lists -- the dashboard promises "the findings in your namespaces".
The resource tabs and detail views still need the kind. A Result whose ``spec.name`` has no
namespace is about a cluster-scoped object and is shown to administrators only; so is a Result
too malformed to tell which namespace it is about.

Results are read with the app's own identity (users have no RBAC on the K8sGPT namespace) and
filtered here, on the server, for every request.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable

from app.planning.redact import redact_text
from app.resources.format import parse_time

_NAMESPACE_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class Finding:
    """One K8sGPT Result, reduced to what the dashboard and the plans show."""

    result_name: str  # metadata.name of the Result (its identity in the K8sGPT namespace)
    kind: str
    namespace: str | None  # None: cluster-scoped or unknown -> administrators only
    name: str
    errors: tuple[str, ...]  # error texts with every sensitive value in its masked form
    details: str
    parent: str
    lifecycle: str
    created: datetime | None
    problems: tuple[str, ...] = ()  # why the Result is malformed; empty when well-formed
    # What the page shows: the error texts with K8sGPT's sensitive values *unmasked*, but
    # passed through redact_text (tokens, passwords, keys masked). K8sGPT masks the object's
    # own namespace/name because that masking is meant for third-party AI backends; the user
    # already sees that namespace and name in the same row, so the masked form only made the
    # text unreadable. Prompts to the model keep the masked form (``errors``, app/planning).
    display_errors: tuple[str, ...] = ()

    @property
    def malformed(self) -> bool:
        return bool(self.problems)

    @property
    def cluster_scoped(self) -> bool:
        return self.namespace is None

    def search_text(self) -> str:
        """Return the lower-cased text the dashboard's free-text filter matches against."""
        return "\n".join(
            (self.kind, self.namespace or "", self.name, self.parent, self.details,
             self.result_name, *self.display_errors)
        ).lower()


def _text(value: Any) -> str | None:
    """Return value when it is a string, else None (K8sGPT fields must be strings)."""
    return value if isinstance(value, str) else None


def mask_sensitive(text: str, sensitive: Any) -> str:
    """Replace every unmasked sensitive value in text by its masked form."""
    if not isinstance(sensitive, list):
        return text
    pairs = [
        (s.get("unmasked"), s.get("masked"))
        for s in sensitive
        if isinstance(s, dict) and isinstance(s.get("unmasked"), str) and s.get("unmasked")
    ]
    # Longest first, so a value that contains another is replaced whole.
    for unmasked, masked in sorted(pairs, key=lambda p: -len(p[0])):
        text = text.replace(unmasked, masked if isinstance(masked, str) and masked else "***")
    return text


@functools.lru_cache(maxsize=16384)
def _display_text(text: str) -> str:
    """redact_text, memoized: the store re-parses the same ~2,000 Results every few seconds
    and redacting them all again would cost ~250 ms of CPU per refresh and process."""
    return redact_text(text)


def _parse_errors(raw: Any, problems: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return (masked texts for prompts, readable redacted texts for the page)."""
    if raw is None:
        problems.append("spec.error missing")
        return (), ()
    if not isinstance(raw, list):
        problems.append("spec.error is not a list")
        return (), ()
    masked, shown = [], []
    for item in raw:
        text = _text(item.get("text")) if isinstance(item, dict) else None
        if text is None:
            problems.append("an error without text")
            continue
        masked.append(mask_sensitive(text, item.get("sensitive")))
        # Unmasked on purpose (see Finding.display_errors), but never unredacted.
        shown.append(_display_text(text))
    return tuple(masked), tuple(shown)


def _split_name(raw: Any, problems: list[str]) -> tuple[str | None, str]:
    name = _text(raw)
    if not name:
        problems.append("spec.name missing")
        return None, ""
    if "/" not in name:
        return None, name  # cluster-scoped object
    namespace, _, obj = name.partition("/")
    if not _NAMESPACE_RE.match(namespace) or len(namespace) > 63 or not obj:
        problems.append("spec.name is not namespace/name")
        return None, name
    return namespace, obj


def parse_result(obj: Any) -> Finding | None:
    """Parse a Result CR dict into a Finding; None when it has no usable identity at all."""
    if not isinstance(obj, dict):
        return None
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    result_name = _text(metadata.get("name"))
    if not result_name:
        return None
    problems: list[str] = []
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        problems.append("spec missing")
        spec = {}
    kind = _text(spec.get("kind")) or ""
    if not kind:
        problems.append("spec.kind missing")
    namespace, name = _split_name(spec.get("name"), problems)
    status = obj.get("status") if isinstance(obj.get("status"), dict) else {}
    errors, display_errors = _parse_errors(spec.get("error"), problems)
    return Finding(
        result_name=result_name,
        kind=kind,
        namespace=namespace,
        name=name,
        errors=errors,
        details=_text(spec.get("details")) or "",
        parent=_text(spec.get("parentObject")) or "",
        lifecycle=_text(status.get("lifecycle")) or "",
        created=parse_time(metadata.get("creationTimestamp")),
        problems=tuple(problems),
        display_errors=display_errors,
    )


def parse_results(items: Iterable[Any]) -> list[Finding]:
    """Parse many Result dicts, skipping those without a name, sorted for display."""
    findings = [f for f in (parse_result(item) for item in items) if f is not None]
    findings.sort(key=lambda f: (f.namespace or "", f.kind.lower(), f.name, f.result_name))
    return findings


def visible_findings(
    findings: Iterable[Finding], namespaces: Iterable[str] | None, *, is_admin: bool
) -> list[Finding]:
    """Keep the findings a user may see: granted namespaces; cluster-scoped ones for admins.

    ``namespaces`` None means every namespace (administrators).
    """
    allowed = None if namespaces is None else set(namespaces)
    return [
        f for f in findings
        if (f.namespace is None and is_admin)
        or (f.namespace is not None and (allowed is None or f.namespace in allowed))
    ]


def filter_findings(
    findings: Iterable[Finding], *, namespace: str = "", kind: str = "", text: str = ""
) -> list[Finding]:
    """Apply the dashboard's namespace, kind and free-text filters."""
    needle = text.strip().lower()
    return [
        f for f in findings
        if (not namespace or f.namespace == namespace)
        and (not kind or f.kind.lower() == kind.lower())
        and (not needle or needle in f.search_text())
    ]


@dataclass
class Snapshot:
    """What the store knows: the findings, when they were read, since when reads fail."""

    findings: list[Finding] = field(default_factory=list)
    fetched_at: float | None = None  # time.time() of the last successful read
    failing_since: float | None = None  # first failure of the current outage, None when healthy
    error: str = ""


class ResultStore:
    """Per-process cache of parsed Results, refreshed in the background once stale.

    Every user's dashboard refreshes every few seconds; listing 2,000 Results per request
    would cost more than the page. Readers get the last snapshot at once; a stale one
    triggers one background refresh (never more than one in flight). ``max_age`` 0 reads
    synchronously on every call (tests that create a Result and look for it right away).
    The outage start is remembered here, per process, for the "unreachable since" banner.
    """

    def __init__(self, fetch: Callable[[], list[dict]], max_age: float = 5.0):
        self._fetch = fetch
        self.max_age = max_age
        self._snapshot = Snapshot()
        self._lock = threading.Lock()
        self._refreshing = False

    def snapshot(self) -> Snapshot:
        """Return the current findings, refreshing them first or in the background."""
        snap = self._snapshot
        if self.max_age <= 0 or snap.fetched_at is None and snap.failing_since is None:
            self.refresh()
        elif time.time() - (snap.fetched_at or snap.failing_since or 0) > self.max_age:
            self._refresh_in_background()
        return self._snapshot

    def refresh(self) -> None:
        """Read the Results now and replace the snapshot."""
        try:
            items = self._fetch()
        except Exception as exc:  # noqa: BLE001 - any failure is an outage for the banner
            old = self._snapshot
            self._snapshot = Snapshot(
                findings=old.findings,
                fetched_at=old.fetched_at,
                failing_since=old.failing_since or time.time(),
                error=str(exc) or type(exc).__name__,
            )
            return
        self._snapshot = Snapshot(findings=parse_results(items), fetched_at=time.time())

    def _refresh_in_background(self) -> None:
        with self._lock:
            if self._refreshing:
                return
            self._refreshing = True

        def run():
            try:
                self.refresh()
            finally:
                self._refreshing = False

        threading.Thread(target=run, name="codex-results-refresh", daemon=True).start()
