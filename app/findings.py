"""K8sGPT findings: Result objects parsed into Findings and filtered by the user's grants. The one Finding serves the dashboard, the plan dialog and the prompts
(app.plans.core); see Finding for which of its texts goes where.

Policy (documented in the README's dashboard section): a Result is shown to a user when the
namespace of the affected object (``spec.name`` = ``namespace/name``) is granted to them,
whatever kinds the grant lists -- the dashboard promises "the findings in your namespaces".
The resource tabs and detail views still need the kind. A Result whose ``spec.name`` has no
namespace is about a cluster-scoped object and is shown to administrators only; so is a Result
too malformed to tell which namespace it is about.

Results are read with the app's own identity (users have no RBAC on the K8sGPT namespace) and
filtered here, on the server, for every request.

The per-process store of Results, and "not reported yet", are app.result_store.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from app.cluster.paths import NAMESPACE
from app.redact import REDACTED, mask_sensitive, redact_text
from app.resources.format import parse_time


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
