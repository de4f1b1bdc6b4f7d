"""Table cells for each kind: what kubectl/K9s show, computed from the object's JSON dict."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

from app.kinds import Kind

Cell = tuple[str, Any]  # (text shown, value sorted by)


def parse_time(value: Any) -> datetime | None:
    """Parse an RFC 3339 timestamp from the API, or return None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def human_age(then: datetime | None, now: datetime | None = None) -> str:
    """Format the time since ``then`` the way kubectl does: 45s, 7m, 5h, 3d, 2y."""
    if then is None:
        return "<unknown>"
    seconds = int(((now or datetime.now(timezone.utc)) - then).total_seconds())
    if seconds < 0:
        seconds = 0
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if days < 730:
        return f"{days}d"
    return f"{days // 365}y"


def _get(obj: Any, *path: str, default: Any = None) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return default
        obj = obj.get(key)
    return default if obj is None else obj


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _age_cell(timestamp: Any) -> Cell:
    then = parse_time(timestamp)
    # Sort by age: newer objects have a smaller age, so sort on the negated timestamp.
    return human_age(then), -(then.timestamp() if then else 0)


def _count_cell(value: Any) -> Cell:
    n = _int(value)
    return str(n), n


def _ratio_cell(have: Any, want: Any) -> Cell:
    h, w = _int(have), _int(want)
    return f"{h}/{w}", (h, w)


def pod_status(pod: dict) -> str:
    """Return the STATUS kubectl prints for a pod (waiting/terminated reason or phase)."""
    if _get(pod, "metadata", "deletionTimestamp"):
        return "Terminating"
    reason = _get(pod, "status", "reason")
    for status in _get(pod, "status", "containerStatuses", default=[]) or []:
        if not isinstance(status, dict):
            continue
        state = status.get("state") or {}
        waiting = _get(state, "waiting", "reason")
        terminated = _get(state, "terminated", "reason")
        if waiting:
            return str(waiting)
        if terminated:
            reason = terminated
    return str(reason or _get(pod, "status", "phase", default="Unknown"))


def _pod_cells(pod: dict) -> dict[str, Cell]:
    statuses = [s for s in _get(pod, "status", "containerStatuses", default=[]) or []
                if isinstance(s, dict)]
    containers = _get(pod, "spec", "containers", default=[]) or []
    ready = sum(1 for s in statuses if s.get("ready") is True)
    restarts = sum(_int(s.get("restartCount")) for s in statuses)
    node = _get(pod, "spec", "nodeName", default="")
    return {
        "ready": _ratio_cell(ready, len(containers)),
        "status": (pod_status(pod),) * 2,
        "restarts": _count_cell(restarts),
        "node": (str(node) or "<none>", str(node)),
    }


def _deployment_cells(obj: dict) -> dict[str, Cell]:
    status = _get(obj, "status", default={})
    return {
        "ready": _ratio_cell(status.get("readyReplicas"), _get(obj, "spec", "replicas", default=1)),
        "up_to_date": _count_cell(status.get("updatedReplicas")),
        "available": _count_cell(status.get("availableReplicas")),
    }


def _statefulset_cells(obj: dict) -> dict[str, Cell]:
    service = str(_get(obj, "spec", "serviceName", default=""))
    return {
        "ready": _ratio_cell(_get(obj, "status", "readyReplicas"),
                             _get(obj, "spec", "replicas", default=1)),
        "service": (service or "<none>", service),
    }


def _daemonset_cells(obj: dict) -> dict[str, Cell]:
    status = _get(obj, "status", default={})
    return {
        "desired": _count_cell(status.get("desiredNumberScheduled")),
        "current": _count_cell(status.get("currentNumberScheduled")),
        "ready_count": _count_cell(status.get("numberReady")),
        "up_to_date": _count_cell(status.get("updatedNumberScheduled")),
        "available": _count_cell(status.get("numberAvailable")),
    }


def _replicaset_cells(obj: dict) -> dict[str, Cell]:
    return {
        "desired": _count_cell(_get(obj, "spec", "replicas", default=1)),
        "current": _count_cell(_get(obj, "status", "replicas")),
        "ready_count": _count_cell(_get(obj, "status", "readyReplicas")),
    }


def _job_cells(obj: dict) -> dict[str, Cell]:
    conditions = _get(obj, "status", "conditions", default=[]) or []
    done = [c.get("type") for c in conditions
            if isinstance(c, dict) and c.get("status") == "True"]
    state = "Complete" if "Complete" in done else "Failed" if "Failed" in done else "Running"
    return {
        "completions": _ratio_cell(_get(obj, "status", "succeeded"),
                                   _get(obj, "spec", "completions", default=1)),
        "job_status": (state, state),
    }


def _cronjob_cells(obj: dict) -> dict[str, Cell]:
    schedule = str(_get(obj, "spec", "schedule", default=""))
    suspend = "True" if _get(obj, "spec", "suspend") is True else "False"
    last = _get(obj, "status", "lastScheduleTime")
    return {
        "schedule": (schedule, schedule),
        "suspend": (suspend, suspend),
        "active": _count_cell(len(_get(obj, "status", "active", default=[]) or [])),
        "last_schedule": _age_cell(last) if last else ("<none>", 0),
    }


def _metric_key(metric: dict) -> str:
    """The field an autoscaling/v2 metric keeps its source in: type Resource -> "resource"."""
    kind = str(metric.get("type") or "Resource")
    return kind[:1].lower() + kind[1:]


def _metric_target(metric: dict, current: dict | None) -> str:
    """One metric of an HPA as kubectl shows it: "cpu: 35%/80%", "<unknown>" before it was measured."""
    source = metric.get(_metric_key(metric)) or {}
    name = str(source.get("name") or (source.get("metric") or {}).get("name") or metric.get("type", "")).lower()
    target = source.get("target") or {}
    wanted = (f"{target['averageUtilization']}%" if "averageUtilization" in target
              else str(target.get("averageValue") or target.get("value") or "?"))
    seen = ((current or {}).get(_metric_key(metric)) or {}).get("current") or {}
    now = (f"{seen['averageUtilization']}%" if "averageUtilization" in seen
           else str(seen.get("averageValue") or seen.get("value") or "<unknown>"))
    return f"{name}: {now}/{wanted}"


def _hpa_cells(obj: dict) -> dict[str, Cell]:
    ref = _get(obj, "spec", "scaleTargetRef", default={})
    reference = f"{ref.get('kind', '')}/{ref.get('name', '')}" if isinstance(ref, dict) else ""
    metrics = [m for m in _get(obj, "spec", "metrics", default=[]) or [] if isinstance(m, dict)]
    current = [m for m in _get(obj, "status", "currentMetrics", default=[]) or [] if isinstance(m, dict)]
    targets = ", ".join(_metric_target(m, current[i] if i < len(current) else None)
                        for i, m in enumerate(metrics)) or "<none>"
    return {
        "reference": (reference, reference),
        "targets": (targets, targets),
        "min_pods": _count_cell(_get(obj, "spec", "minReplicas", default=1)),
        "max_pods": _count_cell(_get(obj, "spec", "maxReplicas")),
        "replicas": _count_cell(_get(obj, "status", "currentReplicas")),
    }


def _format_port(port: Any) -> str:
    if not isinstance(port, dict):
        return ""
    text = str(port.get("port", ""))
    if port.get("nodePort"):
        text += f":{port['nodePort']}"
    return f"{text}/{port.get('protocol', 'TCP')}"


def _service_cells(obj: dict) -> dict[str, Cell]:
    spec = _get(obj, "spec", default={})
    ports = ",".join(_format_port(p) for p in spec.get("ports") or []) or "<none>"
    selector = spec.get("selector") or {}
    selector_text = ",".join(f"{k}={v}" for k, v in selector.items()) if isinstance(
        selector, dict) else ""
    return {
        "type": (str(spec.get("type", "ClusterIP")),) * 2,
        "cluster_ip": (str(spec.get("clusterIP", "")),) * 2,
        "ports": (ports, ports),
        "selector": (selector_text or "<none>", selector_text),
    }


def _ingress_cells(obj: dict) -> dict[str, Cell]:
    rules = _get(obj, "spec", "rules", default=[]) or []
    hosts = ",".join(str(r.get("host")) for r in rules if isinstance(r, dict) and r.get("host"))
    lbs = _get(obj, "status", "loadBalancer", "ingress", default=[]) or []
    address = ",".join(str(i.get("ip") or i.get("hostname") or "") for i in lbs
                       if isinstance(i, dict))
    ingress_class = str(_get(obj, "spec", "ingressClassName", default="")) or "<none>"
    return {
        "class": (ingress_class, ingress_class),
        "hosts": (hosts or "*", hosts),
        "address": (address, address),
    }


def _configmap_cells(obj: dict) -> dict[str, Cell]:
    data = obj.get("data") or {}
    binary = obj.get("binaryData") or {}
    return {"data": _count_cell(len(data) + len(binary))}


def _pvc_cells(obj: dict) -> dict[str, Cell]:
    capacity = str(_get(obj, "status", "capacity", "storage", default=""))
    modes = ",".join(str(m) for m in _get(obj, "spec", "accessModes", default=[]) or [])
    storage_class = str(_get(obj, "spec", "storageClassName", default=""))
    return {
        "pvc_status": (str(_get(obj, "status", "phase", default="Pending")),) * 2,
        "volume": (str(_get(obj, "spec", "volumeName", default="")),) * 2,
        "capacity": (capacity, capacity),
        "access_modes": (modes, modes),
        "storage_class": (storage_class, storage_class),
    }


def event_object(obj: dict) -> str:
    """Return the ``kind/name`` an Event is about."""
    involved = obj.get("involvedObject") or {}
    return f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}"


def _event_cells(obj: dict) -> dict[str, Cell]:
    last = (obj.get("lastTimestamp") or obj.get("eventTime")
            or _get(obj, "metadata", "creationTimestamp"))
    target = event_object(obj)
    return {
        "type": (str(obj.get("type", "")),) * 2,
        "reason": (str(obj.get("reason", "")),) * 2,
        "object": (target, target),
        "message": (str(obj.get("message", "")),) * 2,
        "count": _count_cell(obj.get("count") or 1),
        "last_seen": _age_cell(last),
    }


_KIND_CELLS: dict[str, Callable[[dict], dict[str, Cell]]] = {
    "pods": _pod_cells,
    "deployments": _deployment_cells,
    "statefulsets": _statefulset_cells,
    "daemonsets": _daemonset_cells,
    "replicasets": _replicaset_cells,
    "jobs": _job_cells,
    "cronjobs": _cronjob_cells,
    "horizontalpodautoscalers": _hpa_cells,
    "services": _service_cells,
    "ingresses": _ingress_cells,
    "configmaps": _configmap_cells,
    "persistentvolumeclaims": _pvc_cells,
    "events": _event_cells,
}


def row_cells(kind: Kind, obj: dict) -> dict[str, Cell]:
    """Return every cell of the kind's columns for one object (missing ones blank)."""
    name = str(_get(obj, "metadata", "name", default=""))
    cells: dict[str, Cell] = {
        "name": (name, name),
        "age": _age_cell(_get(obj, "metadata", "creationTimestamp")),
    }
    try:
        cells.update(_KIND_CELLS.get(kind.name, lambda _o: {})(obj))
    except (AttributeError, TypeError, ValueError):
        pass  # an odd object shows blank cells rather than breaking the table
    return {c.key: cells.get(c.key, ("", "")) for c in kind.columns}
