"""Live context for a finding, read as the user through a gateway, bounded and redacted.

The gateway is any object with these three methods (``app/cluster/user_reader.py`` provides them,
every read impersonating the user). Objects are dicts in the API's JSON form (camelCase, as
returned by ``ApiClient().sanitize_for_serialization(obj)``); ``namespace`` is the finding's, None
for a cluster-scoped object; ``kind`` is the Kubernetes Kind as written in ownerReferences and
K8sGPT Results ("Pod", "ReplicaSet", "Deployment", "PersistentVolumeClaim", ...). Errors are the
gateway's own exceptions (NotFound, Forbidden, Unavailable):

- ``get_object(kind, namespace, name) -> dict`` — one object; raises when missing or forbidden.
- ``list_events(namespace, kind, name) -> list[dict]`` — core/v1 Events whose involvedObject is
  that object (any order; ``[]`` when none).
- ``read_pod_log(namespace, name, container, previous, tail_lines) -> str`` — the last
  ``tail_lines`` lines of a container's log; ``previous=True`` for the last terminated instance
  (raises when there is none).
- ``list_objects(kind, namespace, label_selector, limit) -> list[dict]`` — objects of a kind in a
  namespace matching a label selector (the pods of a workload).

For a workload finding (K8sGPT's "has 1 replicas but 0 are available", a Job that failed) the cause
is in its pods, so the context also holds one of them -- the first that is not ready -- with its
events and logs. For a Service it holds one pod its selector selects (what its ports must match).
For an Ingress it holds the namespace's Services (name, ports, selector): what a backend may point
at; for a HorizontalPodAutoscaler, the namespace's workloads of the kind it scales. When a container cannot be created for its configuration (CreateContainerConfigError), it holds
the keys -- never the values -- of the ConfigMaps the pod reads.

A failure of the affected object itself propagates (the finding may have disappeared); failures
of owners, events or logs become notes in the context, so a plan can still be written.

Logs and events are cut to the budget before they are redacted (the newest lines that fit, each
line at most ``MAX_LINE_CHARS``), so redaction never works on text the prompt could not hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import yaml

from app.cluster.errors import NotFound
from app.config import Config
from app.findings import Finding
from app.redact import REDACTED, redact_object, redact_text

DEFAULT_BUDGET_BYTES = Config.CODEX_PLAN_CONTEXT_BUDGET  # the app passes its own setting
DEFAULT_LOG_LINES = 60
DEFAULT_MAX_EVENTS = 25
MAX_OWNER_DEPTH = 4
MAX_LOG_CONTAINERS = 3
# A log line longer than this is cut (JSON loggers and base64 dumps write 64 KiB lines); 2,000
# characters keep a stack frame or a JSON record readable in a 16 KB prompt.
MAX_LINE_CHARS = 2_000
# A long line is redacted this far past its cut before it is cut, so a secret that straddles the cut
# is still recognised whole (a URL password needs its ``@``) instead of showing its first half.
_CUT_CONTEXT_CHARS = 512
# Trim order: least useful first. Within logs and events the oldest lines go first.
_TRIM_ORDER = ("log-current", "pod-events", "events", "log-previous", "owner", "pod", "services", "workloads",
               "configmaps", "object")


class ContextGateway(Protocol):
    def get_object(self, kind: str, namespace: str | None, name: str) -> dict: ...

    def list_events(self, namespace: str | None, kind: str, name: str) -> list[dict]: ...

    def read_pod_log(self, namespace: str | None, name: str, container: str, previous: bool,
                     tail_lines: int) -> str: ...

    def list_objects(self, kind: str, namespace: str | None, label_selector: str, limit: int) -> list[dict]: ...


@dataclass
class Section:
    key: str  # "object", "owner", "events", "log", "pod", "pod-events", "services", "workloads", "configmaps" (docstring)
    title: str
    body: str
    lang: str = "text"
    attrs: dict[str, str] = field(default_factory=dict)
    trimmed_lines: int = 0  # oldest log or event lines left out for the budget (one note says how many)

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


def _cut_line(line: str) -> str:
    """The line itself, or (beyond ``MAX_LINE_CHARS``) its redacted start and a marker saying it was cut."""
    if len(line) <= MAX_LINE_CHARS:
        return line
    head = redact_text(line[:MAX_LINE_CHARS + _CUT_CONTEXT_CHARS])
    end = MAX_LINE_CHARS
    straddling = head.find(REDACTED, max(0, end - len(REDACTED) + 1))
    if 0 <= straddling < end:  # keep a mask whole rather than end on "[REDAC"
        end = straddling + len(REDACTED)
    return f"{head[:end]} [... line cut, {len(line):,} characters in all]"


def _fitting_tail(lines: list[str], budget_bytes: int) -> int:
    """How many of the newest lines fit the budget once cut (measured before redaction, which rarely grows text)."""
    size = -1  # the newest line needs no newline
    for count, line in enumerate(reversed(lines)):
        size += len(line[:MAX_LINE_CHARS].encode()) + 1
        if size > budget_bytes:
            return count
    return len(lines)


def format_events(events: list[dict], limit: int, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> tuple[str, int]:
    """One line per event, oldest first: the newest ``limit`` that fit the budget, each message cut
    and redacted; and how many more events were left out for the budget."""
    prefixes, messages = [], []
    for event in sorted(events, key=_when)[-limit:]:
        count = event.get("count") or (event.get("series") or {}).get("count")
        times = f" (x{count})" if count and count > 1 else ""
        prefixes.append(f"{_when(event)} {event.get('type', '')} {event.get('reason', '')}{times}: ")
        messages.append(str(event.get("message", "")).strip())
    keep = _fitting_tail([p + m for p, m in zip(prefixes, messages)], budget_bytes)
    first = len(messages) - keep
    # Each message on its own: an unterminated PEM block in one must not mask the events after it.
    lines = [p + redact_text(_cut_line(m)) for p, m in zip(prefixes[first:], messages[first:])]
    return "\n".join(lines), first


def _log_body(text: str, budget_bytes: int) -> tuple[str, int]:
    """The newest lines of a log that fit the budget, long ones cut, redacted; and how many older lines were left out."""
    lines = text.rstrip("\n").splitlines()
    first = len(lines) - _fitting_tail(lines, budget_bytes)
    # A cut line comes back redacted already; the whole is redacted again for the patterns that span
    # lines (PEM blocks, env name/value pairs), at the cost of a second pass over the cut lines.
    return redact_text("\n".join(_cut_line(line) for line in lines[first:])), first


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
        # Labelled with the kind that was read (what a reader of the plan must be granted),
        # not whatever the answer's own kind field says.
        current = {**current, "kind": ref["kind"]}
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


def _pod_logs(gateway, finding: Finding, pod: dict, tail: int, budget_bytes: int, notes: list[str]) -> list[Section]:
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
                body, trimmed = _log_body(text, budget_bytes)
                sections.append(Section("log", f"Log of container {container} ({label} instance, last {tail} lines)",
                                        body, "text", {"container": container, "previous": str(previous).lower()},
                                        trimmed))
    return sections


def _events_section(gateway, namespace, kind: str, name: str, max_events: int, budget_bytes: int,
                    notes: list[str], key: str, what: str) -> list[Section]:
    """The object's recent events as one section (`key`), or a note when they cannot be read."""
    try:
        events, trimmed = format_events(gateway.list_events(namespace, kind, name), max_events, budget_bytes)
    except Exception as exc:  # noqa: BLE001 - the gateway's domain errors
        notes.append(f"{what} could not be read ({type(exc).__name__})")
        return []
    title = "Recent events (oldest first)" if key == "events" else f"Recent {what} (oldest first)"
    return [Section(key, title, events, trimmed_lines=trimmed)] if events else []


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")
MAX_WORKLOAD_PODS = 20  # pods looked at for one that is not ready


def _ready(pod: dict) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _pod_labels(finding: Finding, obj: dict) -> dict:
    """The labels that select the finding's pods: a Service's selector, a workload's matchLabels."""
    selector = (obj.get("spec") or {}).get("selector") or {}
    return selector if finding.kind == "Service" else selector.get("matchLabels") or {}


def _selected_pod(gateway, finding: Finding, obj: dict, log_lines: int, max_events: int, budget_bytes: int,
                  notes: list[str]) -> list[Section]:
    """One pod the object selects, the first not ready (else the first): its YAML, events and logs, and
    the keys of its ConfigMaps when they keep a container from being created."""
    labels = _pod_labels(finding, obj)
    if not labels:
        return []
    selector = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
    try:
        pods = gateway.list_objects("Pod", finding.namespace, selector, MAX_WORKLOAD_PODS)
    except Exception as exc:  # noqa: BLE001 - the gateway's domain errors: the plan is written without it
        notes.append(f"the pods of {finding.kind} {finding.name} could not be read ({type(exc).__name__})")
        return []
    if not pods:
        return []
    pod = next((p for p in pods if not _ready(p)), pods[0])
    name = (pod.get("metadata") or {}).get("name", "")
    sections = [Section("pod", f"Pod {name} of {finding.kind} {finding.name} (YAML, managedFields dropped)",
                        to_yaml(clean_object(pod)), "yaml", {"kind": "Pod", "name": name})]
    if finding.kind == "Service":  # the pod is context for the Service's ports, not a failure to read up on
        return sections
    sections += _events_section(gateway, finding.namespace, "Pod", name, max_events, budget_bytes, notes,
                                "pod-events", f"events of pod {name}")
    pod_finding = Finding(kind="Pod", namespace=finding.namespace, name=name)
    return (sections + _pod_logs(gateway, pod_finding, pod, log_lines, budget_bytes, notes)
            + _config_map_keys(gateway, finding.namespace, pod, notes))


MAX_CONFIG_MAPS = 10


def _config_map_names(pod: dict) -> list[str]:
    """The ConfigMaps a pod's containers read (env, envFrom, volumes, projected volumes), in order, each once."""
    spec = pod.get("spec") or {}
    names = []
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        names += [((e.get("valueFrom") or {}).get("configMapKeyRef") or {}).get("name") for e in container.get("env") or []]
        names += [(e.get("configMapRef") or {}).get("name") for e in container.get("envFrom") or []]
    for volume in spec.get("volumes") or []:
        names.append((volume.get("configMap") or {}).get("name"))
        names += [(source.get("configMap") or {}).get("name")
                  for source in (volume.get("projected") or {}).get("sources") or []]
    return list(dict.fromkeys(n for n in names if n))[:MAX_CONFIG_MAPS]


def _config_map_keys(gateway, namespace, pod: dict, notes: list[str]) -> list[Section]:
    """The keys (never the values) of the ConfigMaps the pod reads, when one of its containers cannot be
    created for its configuration: which key a reference should name."""
    status = pod.get("status") or {}
    statuses = (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
    if not any(((s.get("state") or {}).get("waiting") or {}).get("reason") == "CreateContainerConfigError"
               for s in statuses):
        return []
    brief = []
    for name in _config_map_names(pod):
        try:
            config_map = gateway.get_object("ConfigMap", namespace, name)
        except NotFound:  # itself the answer: the reference names a ConfigMap that does not exist
            brief.append({"name": name, "exists": False})
            continue
        except Exception as exc:  # noqa: BLE001 - the gateway's other domain errors become a note
            notes.append(f"ConfigMap {name} could not be read ({type(exc).__name__})")
            continue
        keys = sorted({*(config_map.get("data") or {}), *(config_map.get("binaryData") or {})})
        brief.append({"name": name, "keys": keys})
    if not brief:
        return []
    return [Section("configmaps", "ConfigMaps the pod reads (their keys, not their values)", to_yaml(brief),
                    "yaml", {"kind": "ConfigMap"})]


MAX_NEIGHBOURS = 50  # objects listed from the namespace (Services for an Ingress, workloads for an HPA)
SCALABLE_KINDS = ("Deployment", "StatefulSet", "ReplicaSet")


def _service_brief(service: dict) -> dict:
    spec = service.get("spec") or {}
    return {"name": (service.get("metadata") or {}).get("name", ""),
            "ports": [{k: p[k] for k in ("name", "port", "targetPort") if k in p} for p in spec.get("ports") or []],
            "selector": spec.get("selector") or {}}


def _workload_brief(workload: dict) -> dict:
    spec = workload.get("spec") or {}
    return {"name": (workload.get("metadata") or {}).get("name", ""), "replicas": spec.get("replicas"),
            "selector": (spec.get("selector") or {}).get("matchLabels") or {}}


def _namespace_brief(gateway, finding: Finding, kind: str, key: str, brief, notes: list[str]) -> list[Section]:
    """The objects of one kind in the finding's namespace, each in brief: what the finding may point at."""
    try:
        listed = gateway.list_objects(kind, finding.namespace, "", MAX_NEIGHBOURS)
    except Exception as exc:  # noqa: BLE001 - the gateway's domain errors
        notes.append(f"the {kind}s of {finding.namespace} could not be read ({type(exc).__name__})")
        return []
    body = to_yaml(redact_object([brief(o) for o in listed])) if listed else "[]  # none"
    fields = ", ".join(brief({}))
    return [Section(key, f"{kind}s in namespace {finding.namespace} ({fields})", body, "yaml", {"kind": kind})]


def _scale_targets(gateway, finding: Finding, hpa: dict, notes: list[str]) -> list[Section]:
    """For an HPA: the workloads of the kind it scales, in its namespace."""
    kind = ((hpa.get("spec") or {}).get("scaleTargetRef") or {}).get("kind")
    if kind not in SCALABLE_KINDS:
        return []
    return _namespace_brief(gateway, finding, kind, "workloads", _workload_brief, notes)


def gather_context(gateway: ContextGateway, finding: Finding, *, budget_bytes: int = DEFAULT_BUDGET_BYTES,
                   log_lines: int = DEFAULT_LOG_LINES, max_events: int = DEFAULT_MAX_EVENTS) -> GatheredContext:
    """Read the object, its owners, its events and (for pods) its logs, as the gateway's user."""
    notes: list[str] = []
    obj = gateway.get_object(finding.kind, finding.namespace, finding.name)
    sections = [Section("object", f"{finding.kind} {finding.qualified_name} (YAML, managedFields dropped)",
                        to_yaml(clean_object(obj)), "yaml", {"kind": finding.kind, "name": finding.name})]
    for owner in _owner_chain(gateway, obj, finding.namespace, notes):
        kind, name = owner.get("kind", "Owner"), (owner.get("metadata") or {}).get("name", "")
        sections.append(Section("owner", f"Owner {kind} {name}", to_yaml(clean_object(owner)), "yaml",
                                {"kind": kind, "name": name}))
    sections += _events_section(gateway, finding.namespace, finding.kind, finding.name, max_events, budget_bytes,
                                notes, "events", "events")
    if finding.kind == "Pod":
        sections.extend(_pod_logs(gateway, finding, obj, log_lines, budget_bytes, notes))
        sections.extend(_config_map_keys(gateway, finding.namespace, obj, notes))
    elif finding.kind in WORKLOAD_KINDS or finding.kind == "Service":
        sections.extend(_selected_pod(gateway, finding, obj, log_lines, max_events, budget_bytes, notes))
    elif finding.kind == "Ingress":
        sections.extend(_namespace_brief(gateway, finding, "Service", "services", _service_brief, notes))
    elif finding.kind == "HorizontalPodAutoscaler":
        sections.extend(_scale_targets(gateway, finding, obj, notes))
    context = GatheredContext(sections, notes, budget_bytes)
    trim_to_budget(context)
    return context


def _trim_key(section: Section) -> str:
    if section.key == "log":
        return "log-previous" if section.attrs.get("previous") == "true" else "log-current"
    return section.key


def trim_to_budget(context: GatheredContext) -> None:
    """Cut the context to its byte budget in _TRIM_ORDER: oldest log and event lines first (a workload's pod's
    events before the object's own), then owners, a workload's pod, the namespace's Services or workloads and the
    ConfigMaps' keys, then the object."""
    excess = context.size - context.budget_bytes
    for stage in _TRIM_ORDER:
        candidates = [s for s in context.sections if _trim_key(s) == stage]
        if stage == "owner":
            candidates.reverse()  # the furthest owner goes first
        for section in candidates:
            if section.key in ("log", "events", "pod-events"):
                if excess > 0:
                    lines = section.body.splitlines()
                    while lines and excess > 0:
                        excess -= len(lines.pop(0).encode()) + 1
                        section.trimmed_lines += 1
                    section.body = "\n".join(lines)
                if section.trimmed_lines:  # also lines left out before redaction, in the same note
                    context.notes.append(f"{section.title}: {section.trimmed_lines} oldest line(s) trimmed to fit "
                                         f"the {context.budget_bytes}-byte budget")
                continue
            if excess <= 0:
                break
            before = section.size
            if section.key in ("owner", "pod", "services", "workloads", "configmaps"):
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
