"""The one way the app reads the cluster as a user: impersonated, every path built by the kind
registry, and every read checked against the user's Access before a request is made.

Resource views list and get through it; plan context is gathered through it (it is the
``ContextGateway`` of app.plans.core.context). A kind the user was not granted raises Forbidden
without asking the API server; the API server checks the same grants again (rbac_sync).
"""

from __future__ import annotations

from typing import Any

from app.access import Access
from app.cluster.errors import Forbidden, NotFound
from app.cluster.gateway import Gateway
from app.cluster.paths import selector_value
from app.kinds import Kind, get_kind, kind_for_api_kind

# Secrets are listed as metadata only: the API server strips data before it leaves.
METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
LOG_LIMIT_BYTES = 64 * 1024


class UserReader:
    """Lists and gets objects of the registered kinds as one user.

    `row_cache` (optional, see app.resources.listing.RowCache) lets listings reuse a recent
    identical read; its keys include `identity`, so one user's rows never reach another user.
    """

    def __init__(self, gw: Gateway, user, access: Access, row_cache: Any = None):
        self.gw, self.access = gw, access
        self.api = gw.as_user(user)
        user_id = getattr(user, "id", None)
        self.identity = None if user_id is None else (user_id, getattr(user, "username", None))
        self.row_cache = row_cache if self.identity is not None else None

    def _granted(self, kind: Kind, namespace: str | None) -> Kind:
        if not self.access.allows(namespace, kind):
            raise Forbidden(f"no grant for {kind.name} in {namespace}")
        return kind

    def _get(self, kind: Kind, path: str, **query) -> dict:
        if kind.metadata_only:
            return self.gw.request(self.api, "GET", path, query=query, accept=METADATA_LIST)
        return self.gw.get(self.api, path, **query)

    def list(self, kind: Kind, namespace: str | None, *, limit: int | None = None,
             continue_token: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> tuple[list[dict], str | None]:
        """Return one chunk of objects (namespace None: every namespace, administrators only)
        and the continue token of the next chunk."""
        self._granted(kind, namespace)
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
        self._granted(kind, namespace)
        return self._get(kind, kind.object_path(namespace, name))

    def events_for(self, namespace: str, api_kind: str, name: str, limit: int = 50) -> list[dict]:
        """Return the latest events about one object, newest first."""
        selector = (f"involvedObject.kind={selector_value(api_kind)},"
                    f"involvedObject.name={selector_value(name)},"
                    f"involvedObject.namespace={selector_value(namespace)}")
        items, _ = self.list(get_kind("events"), namespace, field_selector=selector, limit=500)
        items.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime")
                                     or (e.get("metadata") or {}).get("creationTimestamp") or ""),
                   reverse=True)
        return items[:limit]

    # -- the ContextGateway of app.plans.core.context: kinds named by their `kind` field --------

    @staticmethod
    def _plan_kind(api_kind: str, namespace: str) -> Kind:
        """The kind a plan's context may read: namespaced, in the registry, never Secrets."""
        kind = kind_for_api_kind(api_kind)
        if kind is None or kind.metadata_only or not namespace:
            raise NotFound(f"{api_kind} objects are not read for plans")
        return kind

    def get_object(self, api_kind: str, namespace: str, name: str) -> dict:
        """One object for a plan's context."""
        return self.get(self._plan_kind(api_kind, namespace), namespace, name)

    def list_events(self, namespace: str, api_kind: str, name: str) -> list[dict]:
        return self.events_for(namespace, api_kind, name, limit=200)

    def list_objects(self, api_kind: str, namespace: str, label_selector: str, limit: int) -> list[dict]:
        """Objects of a kind matching a selector, for a plan's context (a workload's pods)."""
        items, _ = self.list(self._plan_kind(api_kind, namespace), namespace, limit=limit,
                             label_selector=label_selector or None)
        return items

    def read_pod_log(self, namespace: str, name: str, container: str, previous: bool,
                     tail_lines: int) -> str:
        """The last lines of a container's log (bounded to LOG_LIMIT_BYTES)."""
        pods = self._granted(get_kind("pods"), namespace)
        data = self.gw.request(
            self.api, "GET", pods.object_path(namespace, name, "log"),
            query={"container": container, "previous": "true" if previous else None,
                   "tailLines": tail_lines, "limitBytes": LOG_LIMIT_BYTES},
            raw=True,
        )
        return data.decode("utf-8", errors="replace")
