"""URLs the views and templates build from untrusted input: the post-login destination, and links
to an object's detail view or a finding's plan, offered only where the user may follow them."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for

from app.access import Access
from app.kinds import Kind, kind_for_api_kind


def safe_next(target: str | None) -> str | None:
    """Keep only same-site paths as the post-login destination."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def object_url(access: Access, kind: Kind | str, namespace: str | None, name: str) -> str | None:
    """The detail view of an object (kind: a Kind or the object's ``kind`` field, e.g. "Pod"), or
    None when the kind is not registered, the name cannot be one, or the user may not see it."""
    kind = kind if isinstance(kind, Kind) else kind_for_api_kind(kind)
    if kind is None or not namespace or not name or "/" in name or not access.allows(namespace, kind):
        return None
    return url_for("resources.detail", kind=kind.name, namespace=namespace, name=name)


def plan_url(result_name: str, mode: str) -> str:
    """The plan dialog of a finding (the dialog checks the grant itself)."""
    return url_for("plans.dialog", result=result_name, mode=mode)
