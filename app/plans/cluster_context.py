"""The cluster side of a plan: the Result behind a finding, and live context read as the user.

Context is gathered through app.cluster.user_reader.UserReader: every read impersonates the user
and is checked against their grants first, so a kind the user was not granted becomes a note
instead of a request.
"""

from __future__ import annotations

from app.cluster.gateway import ClusterError, Forbidden, NotFound
from app.cluster.user_reader import UserReader
from app.findings import Finding
from app.kinds import kind_for_api_kind
from app.plans.core.context import GatheredContext, gather_context


class FindingGone(Exception):
    """The K8sGPT Result no longer exists (or its name is not a valid one)."""


def load_finding(gw, result_name):
    """The Finding for a Result in the K8sGPT namespace, read as the app."""
    try:
        result = gw.get_result(result_name)
    except NotFound:  # InvalidName included: a name that cannot exist is not requested
        raise FindingGone(result_name) from None
    finding = Finding.from_result(result)
    if not finding.kind or not finding.name:
        raise FindingGone(result_name)
    return finding


def gathered_kinds(finding, gathered):
    """Kind names (app.kinds) whose objects went into the prompt: the finding's kind, each object
    and owner section, a workload's pod, Services, an HPA's workloads, ConfigMaps' keys, events, and pods for logs. Readers of the run must hold all of them."""
    api_kinds = {finding.kind}
    for section in gathered.sections:
        if section.key in ("object", "owner", "pod", "services", "workloads", "configmaps"):
            api_kinds.add(section.attrs.get("kind", ""))
        elif section.key in ("events", "pod-events"):
            api_kinds.add("Event")
        elif section.key == "log":
            api_kinds.add("Pod")
    return sorted({kind.name for kind in map(kind_for_api_kind, api_kinds) if kind is not None})


def live_context(reader: UserReader, finding, budget_bytes):
    """Gather the finding's context as the user; an unreadable object becomes a note, not an error."""
    try:
        return gather_context(reader, finding, budget_bytes=budget_bytes)
    except ClusterError as exc:
        reason = {Forbidden: "your account may not read it", NotFound: "it does not exist (any more)"}
        note = reason.get(type(exc), f"the cluster did not answer ({exc.message})")
        return GatheredContext(notes=[f"{finding.kind} {finding.qualified_name} could not be "
                                      f"read: {note}; no live context was gathered."],
                               budget_bytes=budget_bytes)
