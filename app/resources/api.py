"""Reading resources as the user, through the gateway (impersonated, with timeouts)."""

from __future__ import annotations

from flask import current_app, has_app_context

from app.cluster.gateway import Gateway, NotFound
from app.cluster.paths import selector_value
from app.kinds import Kind, get_kind
from app.resources.listing import CACHE_TTL, RowCache

# Secrets are listed as metadata only: the API server strips data before it leaves.
METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"


class UserReader:
    """Lists and gets objects of the registered kinds with one user's impersonating client."""

    def __init__(self, gw: Gateway, user):
        self.gw = gw
        self.api = gw.as_user(user)
        # Lists are read as this user, so cached chunks are keyed by who the user is
        # (see app.resources.listing.RowCache): never shared between users.
        user_id = getattr(user, "id", None)
        self.identity = None if user_id is None else (user_id, getattr(user, "username", None))
        self.row_cache = row_cache() if self.identity is not None else None

    def _get(self, kind: Kind, path: str, **query) -> dict:
        if kind.metadata_only:
            return self.gw.request(self.api, "GET", path, query=query, accept=METADATA_LIST)
        return self.gw.get(self.api, path, **query)

    def list(self, kind: Kind, namespace: str | None, *, limit: int | None = None,
             continue_token: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> tuple[list[dict], str | None]:
        """Return one chunk of objects and the continue token of the next chunk."""
        data = self._get(kind, kind.collection_path(namespace), limit=limit,
                         labelSelector=label_selector, fieldSelector=field_selector,
                         **{"continue": continue_token})
        items = data.get("items") or []
        token = (data.get("metadata") or {}).get("continue") or None
        return [i for i in items if isinstance(i, dict)], token

    def get(self, kind: Kind, namespace: str, name: str) -> dict:
        """Return one object; secrets come from a metadata-only list (RBAC grants list only)."""
        if kind.metadata_only:
            items, _ = self.list(kind, namespace, field_selector=f"metadata.name={selector_value(name)}")
            if not items:
                raise NotFound(f"{kind.name} {namespace}/{name} not found")
            return items[0]
        return self._get(kind, kind.object_path(namespace, name))

    def events_for(self, namespace: str, api_kind: str, name: str, limit: int = 50) -> list[dict]:
        """Return the latest events about one object, newest first."""
        events = get_kind("events")
        selector = (f"involvedObject.kind={selector_value(api_kind)},"
                    f"involvedObject.name={selector_value(name)},"
                    f"involvedObject.namespace={selector_value(namespace)}")
        items, _ = self.list(events, namespace, field_selector=selector, limit=500)
        items.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime")
                                     or (e.get("metadata") or {}).get("creationTimestamp") or ""),
                   reverse=True)
        return items[:limit]


def row_cache() -> RowCache | None:
    """The app's cache of listed rows (one per app), or None outside an app context."""
    if not has_app_context():
        return None
    cache = current_app.extensions.get("codex_row_cache")
    if cache is None:
        ttl = float(current_app.config.get("CODEX_LIST_CACHE_TTL", CACHE_TTL))
        cache = current_app.extensions.setdefault("codex_row_cache", RowCache(ttl=ttl))
    return cache
