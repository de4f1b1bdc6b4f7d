"""The cluster side of a plan: the Result behind a finding, and live context read as the user.

`UserContextGateway` gives ``app.plans.core.context.gather_context`` the three methods it needs on
top of the app's gateway, every read impersonating the user and checked against their grants
first, so a kind the user was not granted becomes a note instead of a request.
"""

from __future__ import annotations

from app.access import can_see
from app.cluster.gateway import ClusterError, Forbidden, NotFound
from app.cluster.paths import selector_value
from app.kinds import kind_for_api_kind
from app.plans.core.context import GatheredContext, gather_context
from app.plans.core.finding import Finding

LOG_LIMIT_BYTES = 64 * 1024


class FindingGone(Exception):
    """The K8sGPT Result no longer exists (or its name is not a valid one)."""


def load_finding(gw, result_name):
    """The planning Finding for a Result in the K8sGPT namespace, read as the app."""
    try:
        result = gw.get_result(result_name)
    except NotFound:  # InvalidName included: a name that cannot exist is not requested
        raise FindingGone(result_name) from None
    finding = Finding.from_result(result)
    if not finding.kind or not finding.name:
        raise FindingGone(result_name)
    return finding


class UserContextGateway:
    """get_object / list_events / read_pod_log for app.plans.core.context, as one user."""

    def __init__(self, gw, user, grants):
        self.gw, self.user, self.grants = gw, user, grants

    def _kind(self, api_kind, namespace):
        kind = kind_for_api_kind(api_kind)
        if kind is None or kind.metadata_only or not namespace:
            raise NotFound(f"{api_kind} objects are not read for plans")
        if not can_see(self.user, namespace, kind.name, grants=self.grants):
            raise Forbidden(f"no grant for {kind.name} in {namespace}")
        return kind

    def get_object(self, kind, namespace, name):
        return self.gw.get_object(self.user, self._kind(kind, namespace).name, namespace, name)

    def list_events(self, namespace, kind, name):
        self._kind("Event", namespace)
        data = self.gw.list_objects(
            self.user, "events", namespace,
            fieldSelector=(f"involvedObject.kind={selector_value(kind)},"
                           f"involvedObject.name={selector_value(name)}"), limit=200)
        return data.get("items", [])

    def read_pod_log(self, namespace, name, container, previous, tail_lines):
        self._kind("Pod", namespace)
        return self.gw.pod_log(self.user, namespace, name, container=container, previous=previous,
                               tail_lines=tail_lines, limit_bytes=LOG_LIMIT_BYTES)


def gathered_kinds(finding, gathered):
    """Kind names (app.kinds) whose objects went into the prompt: the finding's kind, each object
    and owner section, events, and pods for logs. Readers of the run must hold all of them."""
    api_kinds = {finding.kind}
    for section in gathered.sections:
        if section.key in ("object", "owner"):
            api_kinds.add(section.attrs.get("kind", ""))
        elif section.key == "events":
            api_kinds.add("Event")
        elif section.key == "log":
            api_kinds.add("Pod")
    return sorted({kind.name for kind in map(kind_for_api_kind, api_kinds) if kind is not None})


def live_context(gw, user, grants, finding, budget_bytes):
    """Gather the finding's context as the user; an unreadable object becomes a note, not an error."""
    try:
        return gather_context(UserContextGateway(gw, user, grants), finding, budget_bytes=budget_bytes)
    except ClusterError as exc:
        reason = {Forbidden: "your account may not read it", NotFound: "it does not exist (any more)"}
        note = reason.get(type(exc), f"the cluster did not answer ({exc.message})")
        return GatheredContext(notes=[f"{finding.kind} {finding.namespace}/{finding.name} could not be "
                                      f"read: {note}; no live context was gathered."],
                               budget_bytes=budget_bytes)
