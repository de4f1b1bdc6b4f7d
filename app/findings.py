"""K8sGPT findings: Result objects parsed into Findings, kept in a per-process store, filtered
by the user's grants. The one Finding serves the dashboard, the plan dialog and the prompts
(app.plans.core); see Finding for which of its texts goes where.

Policy (documented in the README's dashboard section): a Result is shown to a user when the
namespace of the affected object (``spec.name`` = ``namespace/name``) is granted to them,
whatever kinds the grant lists -- the dashboard promises "the findings in your namespaces".
The resource tabs and detail views still need the kind. A Result whose ``spec.name`` has no
namespace is about a cluster-scoped object and is shown to administrators only; so is a Result
too malformed to tell which namespace it is about.

Results are read with the app's own identity (users have no RBAC on the K8sGPT namespace) and
filtered here, on the server, for every request.

"Not reported yet" (see pending_report): an empty dashboard says "No issues in your namespaces"
only once K8sGPT has had time to look. Before that -- K8sGPT set up less than ``REPORT_WITHIN``
seconds ago and no Result seen yet, or a granted namespace created less than ``REPORT_WITHIN``
seconds ago -- it says when K8sGPT's report is expected instead. Outside that window zero Results
means a healthy cluster and "No issues" stays.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable

from app.cluster.errors import Forbidden
from app.cluster.paths import NAMESPACE
from app.redact import REDACTED, mask_sensitive, redact_text
from app.resources.format import parse_time


# How long K8sGPT takes to report on something new (itself just set up, a new namespace).
# k8sgpt-operator v0.2.20 analyses on its first reconcile, then every 30 s (its
# ReconcileSuccessInterval: spec.analysis.interval is ignored while auto-remediation is off),
# 10 s after a failed pass; the lab measures new findings 33-44 s after their object appears and
# the first Results 30-45 s after `scripts/lab up`. Twice the slowest pass plus margin.
REPORT_WITHIN = 90.0


@dataclass(frozen=True)
class Finding:
    """One K8sGPT Result, reduced to what the dashboard, the plan dialog and the prompts use.

    Every text comes in two forms, both passed through redact_text (tokens, passwords, keys):
    ``errors``/``details`` with K8sGPT's sensitive values in their *masked* form, for prompts to
    the model and the plan dialog that shows what the model gets; ``display_errors``/
    ``display_details`` with them *unmasked*, for the dashboard. K8sGPT masks the object's own
    namespace/name because that masking is meant for third-party AI backends; the user already
    sees that namespace and name in the same row, so the masked form only made the page
    unreadable.
    """

    kind: str
    namespace: str | None  # None: cluster-scoped or unknown -> administrators only
    name: str
    errors: tuple[str, ...] = ()
    parent: str = ""
    details: str = ""  # K8sGPT's AI explanation, empty when it ran without an AI backend
    display_errors: tuple[str, ...] = ()
    display_details: str = ""
    result_name: str = ""  # metadata.name of the Result (its identity in the K8sGPT namespace)
    lifecycle: str = ""
    created: datetime | None = None
    problems: tuple[str, ...] = ()  # why the Result is malformed; empty when well-formed

    @classmethod
    def from_result(cls, obj: Any) -> "Finding":
        """Parse a Result CR (``spec``, with metadata and status) or one item of
        ``k8sgpt analyze -o json`` (the spec's fields at the top, ``error[]`` keys capitalised).

        Never raises: what is missing or of the wrong type is left empty and named in
        ``problems``. A Result without ``metadata.name`` has no identity (``result_name`` "").
        """
        obj = obj if isinstance(obj, dict) else {}
        metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        status = obj.get("status") if isinstance(obj.get("status"), dict) else {}
        problems: list[str] = []
        spec = obj.get("spec", None if metadata else obj)  # an analyze item is its own spec
        if not isinstance(spec, dict):
            problems.append("spec missing")
            spec = {}
        kind = _text(_either_case(spec, "kind")) or ""
        if not kind:
            problems.append("spec.kind missing")
        namespace, name = _split_name(_either_case(spec, "name"), problems)
        raw_errors = _either_case(spec, "error")
        pairs = tuple(sensitive_pairs(raw_errors))
        texts = _error_texts(raw_errors, problems)
        errors = tuple(_both_forms(text, pairs) for text in texts)
        details = _both_forms(_text(_either_case(spec, "details")) or "", pairs)
        return cls(
            kind=kind, namespace=namespace, name=name,
            errors=tuple(masked for masked, _ in errors),
            parent=_text(_either_case(spec, "parentObject")) or "",
            details=details[0],
            display_errors=tuple(shown for _, shown in errors),
            display_details=details[1],
            result_name=_text(metadata.get("name")) or "",
            lifecycle=_text(status.get("lifecycle")) or "",
            created=parse_time(metadata.get("creationTimestamp")),
            problems=tuple(problems),
        )

    @property
    def malformed(self) -> bool:
        return bool(self.problems)

    @property
    def cluster_scoped(self) -> bool:
        return self.namespace is None

    @property
    def qualified_name(self) -> str:
        """``namespace/name``, or the bare name of a cluster-scoped object."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def as_prompt_dict(self) -> dict:
        """The machine-readable block the prompt templates embed as ```finding JSON (read by the
        offline planner); a cluster-scoped object's namespace is "" there, as it always was."""
        return {"kind": self.kind, "namespace": self.namespace or "", "name": self.name,
                "errors": list(self.errors), "parent": self.parent, "details": self.details}

    def search_text(self) -> str:
        """Return the lower-cased text the dashboard's free-text filter matches against."""
        return "\n".join(
            (self.kind, self.namespace or "", self.name, self.parent, self.display_details,
             self.result_name, *self.display_errors)
        ).lower()


def _text(value: Any) -> str | None:
    """Return value when it is a string, else None (K8sGPT fields must be strings)."""
    return value if isinstance(value, str) else None


def _either_case(item: dict, key: str) -> Any:
    """item[key] as the CRD spells it, else as ``k8sgpt analyze -o json`` does (``Text``)."""
    value = item.get(key)
    return item.get(key[0].upper() + key[1:]) if value is None else value


def sensitive_pairs(errors: Any) -> list[tuple[str, str]]:
    """(unmasked, masked) pairs of K8sGPT's ``error[].sensitive``, in either casing; what is not a
    string pair is ignored, an empty masked form becomes REDACTED."""
    pairs = []
    for error in errors if isinstance(errors, list) else ():
        sensitive = _either_case(error, "sensitive") if isinstance(error, dict) else None
        for item in sensitive if isinstance(sensitive, list) else ():
            unmasked = _text(_either_case(item, "unmasked")) if isinstance(item, dict) else None
            if unmasked:
                pairs.append((unmasked, _text(_either_case(item, "masked")) or REDACTED))
    return pairs


@functools.lru_cache(maxsize=16384)
def _both_forms(text: str, pairs: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    """(masked and redacted, unmasked and redacted), memoized: the store re-parses the same
    ~2,000 Results every few seconds and redacting them all again would cost ~250 ms of CPU per
    refresh and process. Every sensitive value of the Result masks every text of it: they name
    the object, not one sentence."""
    return redact_text(mask_sensitive(text, list(pairs))), redact_text(text)


def _error_texts(raw: Any, problems: list[str]) -> list[str]:
    if raw is None:
        problems.append("spec.error missing")
        return []
    if not isinstance(raw, list):
        problems.append("spec.error is not a list")
        return []
    texts = [_text(_either_case(item, "text")) if isinstance(item, dict) else None for item in raw]
    problems.extend("an error without text" for text in texts if text is None)
    return [text for text in texts if text is not None]


def _split_name(raw: Any, problems: list[str]) -> tuple[str | None, str]:
    """Split ``spec.name`` at its first "/"; a prefix that is not a namespace is a problem."""
    name = _text(raw)
    if not name:
        problems.append("spec.name missing")
        return None, ""
    if "/" not in name:
        return None, name  # cluster-scoped object
    namespace, _, obj = name.partition("/")
    if not NAMESPACE.fullmatch(namespace) or not obj:
        problems.append("spec.name is not namespace/name")
        return None, name
    return namespace, obj


def parse_results(items: Iterable[Any]) -> list[Finding]:
    """Parse many Result dicts, skipping those without a name, sorted for display."""
    findings = [f for f in map(Finding.from_result, items) if f.result_name]
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
    # When K8sGPT was set up; set by a successful read only while no Result was ever seen.
    k8sgpt_since: float | None = None
    # Namespaces created less than REPORT_WITHIN before the read: name -> creation time.
    new_namespaces: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PendingReport:
    """A report K8sGPT has not had time to make: about `namespace` (None: its very first)."""

    namespace: str | None
    since: float  # when K8sGPT was set up, or when the namespace was created
    due: float


def pending_report(snapshot: Snapshot, namespaces: Iterable[str] | None,
                   now: float | None = None) -> PendingReport | None:
    """Return the latest-due report K8sGPT still owes a user of `namespaces` (None: every one).

    Asked only when the user sees no finding at all: it decides between "No issues in your
    namespaces" (None) and "K8sGPT has not reported yet, expected by ...".
    """
    now = time.time() if now is None else now
    pending = []
    if snapshot.k8sgpt_since is not None:
        pending.append(PendingReport(None, snapshot.k8sgpt_since,
                                     snapshot.k8sgpt_since + REPORT_WITHIN))
    wanted = None if namespaces is None else set(namespaces)
    pending += [PendingReport(ns, created, created + REPORT_WITHIN)
                for ns, created in snapshot.new_namespaces.items()
                if wanted is None or ns in wanted]
    pending = [p for p in pending if now < p.due]
    return max(pending, key=lambda p: (p.due, p.namespace is None)) if pending else None


def namespace_creations(gw) -> dict[str, float]:
    """Return every namespace's creation time (epoch seconds), read as the app."""
    data = gw.get(gw.as_app(), "/api/v1/namespaces", resourceVersion="0")  # the watch cache
    created = {}
    for item in data.get("items", []):
        metadata = item.get("metadata") if isinstance(item, dict) else None
        if not isinstance(metadata, dict):
            continue
        when = parse_time(metadata.get("creationTimestamp"))
        if isinstance(metadata.get("name"), str) and when is not None:
            created[metadata["name"]] = when.timestamp()
    return created


def k8sgpt_set_up_at(gw, namespaces: dict[str, float]) -> float | None:
    """Return when K8sGPT was set up here (epoch seconds): its newest K8sGPT object's creation.

    The operator (v0.2.20) writes no status on the K8sGPT object, so its age is all there is.
    When the app may not read K8sGPT objects (the chart grants it Results only), the K8sGPT
    namespace's creation (from `namespaces`) stands in: it is made with the operator's
    installation. None when there is no K8sGPT object.
    """
    try:
        items = gw.list_k8sgpts()
    except Forbidden:
        return namespaces.get(gw.k8sgpt_namespace)
    created = [parse_time((item.get("metadata") or {}).get("creationTimestamp"))
               for item in items if isinstance(item, dict)]
    created = [c for c in created if c is not None]
    return max(created).timestamp() if created else None


class ResultStore:
    """Per-process cache of parsed Results, refreshed in the background once stale.

    Every user's dashboard refreshes every few seconds; listing 2,000 Results per request
    would cost more than the page. Readers get the last snapshot at once; a stale one
    triggers one background refresh (never more than one in flight). ``max_age`` 0 reads
    synchronously on every call (tests that create a Result and look for it right away).
    The outage start is remembered here, per process, for the "unreachable since" banner.
    For "not reported yet" (pending_report) each refresh also reads ``namespaces()`` (see
    namespace_creations) and, until the first Result shows up or is overdue,
    ``set_up_at(namespaces)`` (see k8sgpt_set_up_at); when either fails, the plain empty state
    stays.
    """

    def __init__(self, fetch: Callable[[], list[dict]], max_age: float = 5.0,
                 namespaces: Callable[[], dict[str, float]] | None = None,
                 set_up_at: Callable[[dict[str, float]], float | None] | None = None):
        self._fetch = fetch
        self._namespaces = namespaces
        self._set_up_at = set_up_at
        self.max_age = max_age
        self._snapshot = Snapshot()
        self._lock = threading.Lock()
        self._refreshing = False
        # Once K8sGPT has reported (or its first report is overdue), it never "has not reported
        # yet" again in this process: zero Results later means every issue is gone.
        self._past_first_report = False

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
        now = time.time()
        created = self._ask(self._namespaces) or {}
        self._past_first_report = self._past_first_report or bool(items)
        since = None if self._past_first_report else self._ask(self._set_up_at, created)
        if since is not None and now >= since + REPORT_WITHIN:
            self._past_first_report, since = True, None
        self._snapshot = Snapshot(
            findings=parse_results(items), fetched_at=now, k8sgpt_since=since,
            new_namespaces={ns: t for ns, t in created.items() if now < t + REPORT_WITHIN})

    @staticmethod
    def _ask(reader, *args):
        if reader is None:
            return None
        try:
            return reader(*args)
        except Exception:  # noqa: BLE001 - unknown ages: the plain empty state stays
            return None

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


# -- the app's one store (an extension, like the gateway) --------------------------------------

STORE_KEY = "codex_results"


def init_app(app):
    """Give the app its Result store, reading through the app's gateway (init it first)."""
    from app.cluster.gateway import EXTENSION_KEY as GATEWAY_KEY

    gw = app.extensions[GATEWAY_KEY]  # bound now: the background refresh runs outside the app
    app.extensions[STORE_KEY] = ResultStore(
        gw.list_results, max_age=app.config["CODEX_RESULTS_MAX_AGE"],
        namespaces=lambda: namespace_creations(gw),
        set_up_at=lambda created: k8sgpt_set_up_at(gw, created))


def result_store() -> "ResultStore":
    from flask import current_app

    return current_app.extensions[STORE_KEY]


def findings_for(access) -> tuple[list[Finding], Snapshot]:
    """The findings an Access (app.access) may see, and the store snapshot they came from."""
    snapshot = result_store().snapshot()
    return visible_findings(snapshot.findings, access.namespaces(), is_admin=access.admin), snapshot
