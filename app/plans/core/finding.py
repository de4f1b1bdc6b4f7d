"""The finding a plan is about, read from a K8sGPT Result and cleaned for prompts."""

from __future__ import annotations

from dataclasses import dataclass

from app.cluster.paths import NAMESPACE
from app.redact import mask_sensitive, redact_text, sensitive_pairs


@dataclass(frozen=True)
class Finding:
    kind: str
    namespace: str
    name: str
    errors: tuple[str, ...] = ()
    parent: str = ""
    details: str = ""

    @classmethod
    def from_result(cls, result: dict) -> "Finding":
        """Build from a Result CR (``spec`` in API form) or one item of ``k8sgpt analyze -o json``.

        Error texts get K8sGPT's ``sensitive`` values replaced by their masked form, then every
        text goes through `redact_text`.
        """
        spec = result.get("spec", result)
        # Split like the dashboard (app.findings): at the first "/", and a prefix that is not a
        # namespace leaves the whole name cluster-scoped (administrators only).
        namespace, _, name = str(spec.get("name") or spec.get("Name") or "").partition("/")
        if not name or not NAMESPACE.fullmatch(namespace):
            namespace, name = "", str(spec.get("name") or spec.get("Name") or "")
        raw_errors = spec.get("error") or spec.get("Error") or []
        pairs = sensitive_pairs(raw_errors)
        errors = tuple(redact_text(mask_sensitive(str(e.get("text") or e.get("Text") or ""), pairs))
                       for e in raw_errors if isinstance(e, dict))
        return cls(
            kind=str(spec.get("kind") or spec.get("Kind") or ""),
            namespace=namespace,
            name=name,
            errors=errors,
            parent=str(spec.get("parentObject") or spec.get("ParentObject") or ""),
            details=redact_text(mask_sensitive(str(spec.get("details") or spec.get("Details") or ""), pairs)),
        )

    def as_prompt_dict(self) -> dict:
        """The machine-readable block the prompt templates embed as ```finding JSON."""
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name,
                "errors": list(self.errors), "parent": self.parent, "details": self.details}
