"""What a dry-run would change: the objects before (read as the user) and after (the API server's
answer), as redacted YAML without managedFields, and a unified diff of the two. Flask-free.
"""

from __future__ import annotations

import copy
import difflib

import yaml

from app.kinds import kind_for_api_kind
from app.redact import redact_object

MAX_DIFF = 64 * 1024
Key = tuple[str, str]  # (kind grant name, object name)


def object_yaml(obj: dict | None) -> str:
    """One object as the user may see it: redacted, managedFields dropped, keys sorted ("" if None)."""
    if obj is None:
        return ""
    clean = redact_object(obj)
    if isinstance(clean.get("metadata"), dict):
        clean["metadata"].pop("managedFields", None)
    return yaml.safe_dump(clean, sort_keys=True, default_flow_style=False, allow_unicode=True)


def answered_objects(stdout: str) -> dict[Key, dict]:
    """The objects in kubectl's ``-o yaml`` answer (a List's items too), by kind and name."""
    try:
        documents = list(yaml.safe_load_all(stdout or ""))
    except yaml.YAMLError:
        return {}
    found: dict[Key, dict] = {}
    for document in documents:
        items = document.get("items") if isinstance(document, dict) and document.get("kind") == "List" else [document]
        for item in items or []:
            if not isinstance(item, dict) or not isinstance(item.get("metadata"), dict):
                continue
            kind = kind_for_api_kind(str(item.get("kind", "")))
            if kind is not None:
                found[(kind.name, str(item["metadata"].get("name", "")))] = item
    return found


def scaled(before: dict | None, replicas: int) -> dict | None:
    """The object with the replica count a scale dry-run accepted.

    kubectl scale prints the object it read, not the server's answer (a Scale, whose spec omits
    a count of 0), so its after is the object read with the accepted count.
    """
    if before is None:
        return None
    after = copy.deepcopy(before)
    after.setdefault("spec", {})["replicas"] = replicas
    return after


def rolled_back(before: dict | None, replicasets: list[dict], to_revision: int | None) -> dict | None:
    """The Deployment with the pod template `rollout undo` would bring back, or None when no such revision.

    kubectl's server-side dry-run of `rollout undo` prints the Deployment as it is, so the change is
    computed the way kubectl finds it: the template of the ReplicaSet at the revision asked for (default:
    the one before the current), without the pod-template-hash label the controller adds.
    """
    if before is None:
        return None
    uid = (before.get("metadata") or {}).get("uid")

    def revision(rs: dict) -> int:
        value = ((rs.get("metadata") or {}).get("annotations") or {}).get("deployment.kubernetes.io/revision", "")
        return int(value) if str(value).isdigit() else 0

    owned = sorted((rs for rs in replicasets if any(ref.get("uid") == uid for ref in
                                                    (rs.get("metadata") or {}).get("ownerReferences") or [])),
                   key=revision)
    current = revision({"metadata": before.get("metadata")})
    wanted = to_revision or max((revision(rs) for rs in owned if revision(rs) < current), default=0)
    target = next((rs for rs in owned if wanted and revision(rs) == wanted), None)
    if target is None:
        return None
    template = copy.deepcopy((target.get("spec") or {}).get("template") or {})
    ((template.get("metadata") or {}).get("labels") or {}).pop("pod-template-hash", None)
    after = copy.deepcopy(before)
    after.setdefault("spec", {})["template"] = template
    return after


def change_diff(objects: list[Key], before: dict[Key, dict | None], after: dict[Key, dict | None]) -> str:
    """A unified diff per object, from the object read to the server's answer; bounded."""
    parts = []
    for kind, name in objects:
        old, new = object_yaml(before.get((kind, name))), object_yaml(after.get((kind, name)))
        parts.extend(difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True),
            fromfile=f"{kind}/{name} now" if old else f"{kind}/{name} (does not exist)",
            tofile=f"{kind}/{name} after the change" if new else f"{kind}/{name} (deleted)"))
    text = "".join(parts)
    return text if len(text) <= MAX_DIFF else text[:MAX_DIFF] + f"\n[diff cut at {MAX_DIFF // 1024} KiB]\n"


def documents_yaml(objects: list[Key], found: dict[Key, dict | None]) -> str:
    """The objects as one YAML stream, in the step's order (absent ones left out)."""
    return "---\n".join(text for key in objects if (text := object_yaml(found.get(key))))
