"""Live context for a finding, read as the user through a gateway, bounded and redacted.

The gateway is any object with these three methods (``app/cluster/gateway.py`` provides them on
its per-user, impersonating client). Objects are dicts in the API's JSON form (camelCase, as
returned by ``ApiClient().sanitize_for_serialization(obj)``); ``namespace`` is ``""`` for
cluster-scoped kinds; ``kind`` is the Kubernetes Kind as written in ownerReferences and K8sGPT
Results ("Pod", "ReplicaSet", "Deployment", "PersistentVolumeClaim", ...). Errors are the
gateway's own exceptions (NotFound, Forbidden, Unavailable):

- ``get_object(kind, namespace, name) -> dict`` — one object; raises when missing or forbidden.
- ``list_events(namespace, kind, name) -> list[dict]`` — core/v1 Events whose involvedObject is
  that object (any order; ``[]`` when none).
- ``read_pod_log(namespace, name, container, previous, tail_lines) -> str`` — the last
  ``tail_lines`` lines of a container's log; ``previous=True`` for the last terminated instance
  (raises when there is none).

A failure of the affected object itself propagates (the finding may have disappeared); failures
of owners, events or logs become notes in the context, so a plan can still be written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import yaml

from app.planning.finding import Finding
from app.planning.redact import redact_object, redact_text

DEFAULT_BUDGET_BYTES = 16_000
DEFAULT_LOG_LINES = 60
DEFAULT_MAX_EVENTS = 25
MAX_OWNER_DEPTH = 4
MAX_LOG_CONTAINERS = 3
# Trim order: least useful first. Within logs and events the oldest lines go first.
_TRIM_ORDER = ("log-current", "events", "log-previous", "owner", "object")


class ContextGateway(Protocol):
    def get_object(self, kind: str, namespace: str, name: str) -> dict: ...

    def list_events(self, namespace: str, kind: str, name: str) -> list[dict]: ...

    def read_pod_log(self, namespace: str, name: str, container: str, previous: bool, tail_lines: int) -> str: ...


@dataclass
class Section:
    key: str  # "object", "owner", "events" or "log"
    title: str
    body: str
    lang: str = "text"
    attrs: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.body.encode())


@dataclass
class GatheredContext:
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    budget_bytes: int = DEFAULT_BUDGET_BYTES

    @property
    def size(self) -> int:
        return sum(s.size for s in self.sections)


def clean_object(obj: dict) -> dict:
    """Drop managedFields and empty values, then redact."""
    obj = redact_object(obj)
    (obj.get("metadata") or {}).pop("managedFields", None)
    (obj.get("metadata") or {}).pop("managed_fields", None)
    return _drop_empty(obj)


def _drop_empty(node):
    if isinstance(node, dict):
        return {k: _drop_empty(v) for k, v in node.items() if v not in (None, {}, [])}
    if isinstance(node, list):
        return [_drop_empty(v) for v in node]
    return node


def to_yaml(obj: dict) -> str:
    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, allow_unicode=True, width=120).rstrip()


def _when(event: dict) -> str:
    meta = event.get("metadata") or {}
    for key in ("lastTimestamp", "last_timestamp", "eventTime", "event_time", "firstTimestamp", "first_timestamp"):
        value = event.get(key)
        if value:
            return value.isoformat() if hasattr(value, "isoformat") else str(value)
    value = meta.get("creationTimestamp") or meta.get("creation_timestamp") or ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def format_events(events: list[dict], limit: int) -> str:
    """One line per event, oldest first, the newest ``limit`` kept."""
    lines = []
    for event in sorted(events, key=_when)[-limit:]:
        count = event.get("count") or (event.get("series") or {}).get("count")
        times = f" (x{count})" if count and count > 1 else ""
        lines.append(f"{_when(event)} {event.get('type', '')} {event.get('reason', '')}{times}: "
                     f"{redact_text(str(event.get('message', '')).strip())}")
    return "\n".join(lines)


def _owner_chain(gateway, obj: dict, namespace: str, notes: list[str]) -> list[dict]:
    chain, current = [], obj
    for _ in range(MAX_OWNER_DEPTH):
        refs = (current.get("metadata") or {}).get("ownerReferences") or []
        ref = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
        if not ref:
            break
        try:
            current = gateway.get_object(ref["kind"], namespace, ref["name"])
        except Exception as exc:  # noqa: BLE001 - the gateway's NotFound/Forbidden/Unavailable
            notes.append(f"owner {ref['kind']}/{ref['name']} could not be read ({type(exc).__name__})")
            break
        chain.append(current)
    return chain


def _log_containers(pod: dict) -> list[tuple[str, bool]]:
    """(container, has a previous instance), failing containers first."""
    statuses = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}
    names = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
    def trouble(name):
        status = statuses.get(name) or {}
        return -(status.get("restartCount") or 0) - (0 if status.get("ready") else 1)
    ordered = sorted(names, key=trouble)[:MAX_LOG_CONTAINERS]
    return [(n, bool((statuses.get(n) or {}).get("restartCount") or
                     ((statuses.get(n) or {}).get("lastState") or {}).get("terminated"))) for n in ordered]


def _pod_logs(gateway, finding: Finding, pod: dict, tail: int, notes: list[str]) -> list[Section]:
    sections = []
    for container, has_previous in _log_containers(pod):
        for previous in ((True, False) if has_previous else (False,)):
            label = "previous" if previous else "current"
            try:
                text = gateway.read_pod_log(finding.namespace, finding.name, container, previous, tail)
            except Exception as exc:  # noqa: BLE001 - the gateway's domain errors
                notes.append(f"{label} log of container {container} could not be read ({type(exc).__name__})")
                continue
            if text and text.strip():
                sections.append(Section("log", f"Log of container {container} ({label} instance, last {tail} lines)",
                                        redact_text(text.rstrip("\n")), "text",
                                        {"container": container, "previous": str(previous).lower()}))
    return sections


def gather_context(gateway: ContextGateway, finding: Finding, *, budget_bytes: int = DEFAULT_BUDGET_BYTES,
                   log_lines: int = DEFAULT_LOG_LINES, max_events: int = DEFAULT_MAX_EVENTS) -> GatheredContext:
    """Read the object, its owners, its events and (for pods) its logs, as the gateway's user."""
    notes: list[str] = []
    obj = gateway.get_object(finding.kind, finding.namespace, finding.name)
    sections = [Section("object", f"{finding.kind} {finding.namespace}/{finding.name} (YAML, managedFields dropped)",
                        to_yaml(clean_object(obj)), "yaml", {"kind": finding.kind, "name": finding.name})]
    for owner in _owner_chain(gateway, obj, finding.namespace, notes):
        kind, name = owner.get("kind", "Owner"), (owner.get("metadata") or {}).get("name", "")
        sections.append(Section("owner", f"Owner {kind} {name}", to_yaml(clean_object(owner)), "yaml",
                                {"kind": kind, "name": name}))
    try:
        events = format_events(gateway.list_events(finding.namespace, finding.kind, finding.name), max_events)
    except Exception as exc:  # noqa: BLE001 - the gateway's domain errors
        notes.append(f"events could not be read ({type(exc).__name__})")
        events = ""
    if events:
        sections.append(Section("events", "Recent events (oldest first)", events))
    if finding.kind == "Pod":
        sections.extend(_pod_logs(gateway, finding, obj, log_lines, notes))
    context = GatheredContext(sections, notes, budget_bytes)
    trim_to_budget(context)
    return context


def _trim_key(section: Section) -> str:
    if section.key == "log":
        return "log-previous" if section.attrs.get("previous") == "true" else "log-current"
    return section.key


def trim_to_budget(context: GatheredContext) -> None:
    """Cut the context to its byte budget: oldest log and event lines first, then owners, then the object."""
    excess = context.size - context.budget_bytes
    for stage in _TRIM_ORDER:
        candidates = [s for s in context.sections if _trim_key(s) == stage]
        if stage == "owner":
            candidates.reverse()  # the furthest owner goes first
        for section in candidates:
            if excess <= 0:
                break
            before = section.size
            if section.key in ("log", "events"):
                lines = section.body.splitlines()
                dropped = 0
                while lines and excess > 0:
                    excess -= len(lines.pop(0).encode()) + 1
                    dropped += 1
                section.body = "\n".join(lines)
                context.notes.append(f"{section.title}: {dropped} oldest line(s) trimmed to fit the "
                                     f"{context.budget_bytes}-byte budget")
            elif section.key == "owner":
                section.body = ""
                excess -= before
                context.notes.append(f"{section.title}: dropped to fit the {context.budget_bytes}-byte budget")
            else:
                keep = max(0, before - excess)
                section.body = section.body.encode()[:keep].decode(errors="ignore").rsplit("\n", 1)[0]
                excess -= before - section.size
                context.notes.append(f"{section.title}: truncated at the end to fit the "
                                     f"{context.budget_bytes}-byte budget")
    context.sections = [s for s in context.sections if s.body.strip()]
