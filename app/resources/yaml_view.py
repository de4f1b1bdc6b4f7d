"""An object's YAML for the detail view, without managed fields and without secret values."""

from __future__ import annotations

import yaml

from app.kinds import Kind
from app.redact import redact_object, strip_secret_values

SECRET_PLACEHOLDER = "(values are never shown)"


def display_object(kind: Kind, obj: dict) -> dict:
    """Return a copy of obj fit to show: managedFields dropped, secret values removed.

    The same redaction as a prompt's (app.redact): literal env values under secret-looking
    names, token-like strings anywhere (annotations included) and kubectl's last-applied copy.
    """
    shown = redact_object(obj) if isinstance(obj, dict) else {}
    metadata = shown.get("metadata")
    if isinstance(metadata, dict):
        metadata.pop("managedFields", None)
    if kind.name == "secrets":
        # The app lists secrets as metadata only, but be strict about anything that slips
        # through: the body and the client-side apply copy (which embeds the data) go.
        strip_secret_values(shown)
        shown["data"] = SECRET_PLACEHOLDER
    shown.setdefault("apiVersion", kind.api_version)
    shown.setdefault("kind", kind.api_kind)
    if shown.get("kind") == "PartialObjectMetadata":
        shown["apiVersion"], shown["kind"] = kind.api_version, kind.api_kind
    return shown


def object_yaml(kind: Kind, obj: dict) -> str:
    """Render an object as YAML in the usual field order (apiVersion, kind, metadata...)."""
    shown = display_object(kind, obj)
    ordered = {k: shown[k] for k in ("apiVersion", "kind", "metadata") if k in shown}
    ordered.update((k, v) for k, v in shown.items() if k not in ordered)
    return yaml.safe_dump(ordered, sort_keys=False, default_flow_style=False, allow_unicode=True)
