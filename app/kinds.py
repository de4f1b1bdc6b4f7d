"""The kind registry: the resource kinds a user can be granted, their API coordinates,
K9s aliases and the table columns each kind shows.

The grant name of a kind is its plural resource name (``pods``, ``deployments``...), the
same word the admin portal stores and the RBAC ClusterRoles ``cluster-codex:view:<kind>``
use, so one string identifies a kind everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.cluster.paths import name_segment, namespace_segment, word_segment


@dataclass(frozen=True)
class Column:
    """One table column: ``key`` names the cell formatter, ``label`` is the header."""

    key: str
    label: str
    sortable: bool = True


@dataclass(frozen=True)
class Kind:
    """A grantable resource kind and how to reach it in the API."""

    name: str  # plural resource name, also the grant name and the URL segment
    api_kind: str  # the object's ``kind`` field, e.g. "Pod"
    group: str  # "" for the core group
    version: str
    aliases: tuple[str, ...]
    columns: tuple[Column, ...]
    title: str
    namespaced: bool = True
    metadata_only: bool = False  # list as PartialObjectMetadata: the app never sees the body
    grant_note: str = ""  # what an administrator must know before granting it

    @property
    def grant_label(self) -> str:
        """The kind as the admin portal names it: its title, with its caveat if it has one."""
        return f"{self.title} ({self.grant_note})" if self.grant_note else self.title

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def collection_path(self, namespace: str | None) -> str:
        """Return the REST path of the collection, in one namespace or across all.

        The namespace is validated and quoted (app.cluster.paths): InvalidName, never a request.
        """
        if namespace:
            return f"{self.api_prefix}/namespaces/{namespace_segment(namespace)}/{self.name}"
        return f"{self.api_prefix}/{self.name}"

    def object_path(self, namespace: str, name: str, subresource: str | None = None) -> str:
        """Return the REST path of one object (or its subresource), every segment checked."""
        path = f"{self.collection_path(namespace)}/{name_segment(name)}"
        return f"{path}/{word_segment(subresource)}" if subresource else path


def _cols(*pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(key, label) for key, label in pairs)


NAME = ("name", "Name")
AGE = ("age", "Age")

KINDS: tuple[Kind, ...] = (
    Kind("pods", "Pod", "", "v1", ("po", "pod"), _cols(
        NAME, ("ready", "Ready"), ("status", "Status"), ("restarts", "Restarts"), AGE,
        ("node", "Node")), "Pods"),
    Kind("deployments", "Deployment", "apps", "v1", ("deploy", "dp", "deployment"), _cols(
        NAME, ("ready", "Ready"), ("up_to_date", "Up-to-date"), ("available", "Available"),
        AGE), "Deployments"),
    Kind("statefulsets", "StatefulSet", "apps", "v1", ("sts", "statefulset"), _cols(
        NAME, ("ready", "Ready"), ("service", "Service"), AGE), "StatefulSets"),
    Kind("daemonsets", "DaemonSet", "apps", "v1", ("ds", "daemonset"), _cols(
        NAME, ("desired", "Desired"), ("current", "Current"), ("ready_count", "Ready"),
        ("up_to_date", "Up-to-date"), ("available", "Available"), AGE), "DaemonSets"),
    Kind("replicasets", "ReplicaSet", "apps", "v1", ("rs", "replicaset"), _cols(
        NAME, ("desired", "Desired"), ("current", "Current"), ("ready_count", "Ready"), AGE),
        "ReplicaSets"),
    Kind("jobs", "Job", "batch", "v1", ("job",), _cols(
        NAME, ("completions", "Completions"), ("job_status", "Status"), AGE), "Jobs"),
    Kind("cronjobs", "CronJob", "batch", "v1", ("cj", "cronjob"), _cols(
        NAME, ("schedule", "Schedule"), ("suspend", "Suspend"), ("active", "Active"),
        ("last_schedule", "Last schedule"), AGE), "CronJobs"),
    Kind("horizontalpodautoscalers", "HorizontalPodAutoscaler", "autoscaling", "v2",
         ("hpa", "horizontalpodautoscaler"), _cols(
             NAME, ("reference", "Reference"), ("targets", "Targets"), ("min_pods", "Min pods"),
             ("max_pods", "Max pods"), ("replicas", "Replicas"), AGE), "HPAs"),
    Kind("services", "Service", "", "v1", ("svc", "service"), _cols(
        NAME, ("type", "Type"), ("cluster_ip", "Cluster IP"), ("ports", "Ports"),
        ("selector", "Selector"), AGE), "Services"),
    Kind("ingresses", "Ingress", "networking.k8s.io", "v1", ("ing", "ingress"), _cols(
        NAME, ("class", "Class"), ("hosts", "Hosts"), ("address", "Address"), AGE),
        "Ingresses"),
    Kind("configmaps", "ConfigMap", "", "v1", ("cm", "configmap"), _cols(
        NAME, ("data", "Data"), AGE), "ConfigMaps"),
    Kind("persistentvolumeclaims", "PersistentVolumeClaim", "", "v1", ("pvc",), _cols(
        NAME, ("pvc_status", "Status"), ("volume", "Volume"), ("capacity", "Capacity"),
        ("access_modes", "Access modes"), ("storage_class", "Storage class"), AGE), "PVCs"),
    Kind("events", "Event", "", "v1", ("ev", "event"), _cols(
        ("type", "Type"), ("reason", "Reason"), ("object", "Object"), ("message", "Message"),
        ("count", "Count"), ("last_seen", "Last seen")), "Events"),
    # Secrets are listed as metadata only: values never reach the app, let alone a page. But RBAC
    # cannot grant names only: the user's own `list` returns the values (see the grant form).
    Kind("secrets", "Secret", "", "v1", ("sec", "secret"), _cols(NAME, AGE), "Secrets",
         metadata_only=True, grant_note="listing includes values"),
)

KIND_NAMES: tuple[str, ...] = tuple(k.name for k in KINDS)
_BY_NAME = {k.name: k for k in KINDS}
_BY_ALIAS = {alias: k for k in KINDS for alias in (k.name, *k.aliases)}
_BY_API_KIND = {k.api_kind.lower(): k for k in KINDS}


def get_kind(name: str) -> Kind | None:
    """Return the kind registered under a grant name, or None."""
    return _BY_NAME.get(name)


def grant_label(name: str) -> str:
    """The admin portal's label for a grant name ('pods' -> 'Pods'); an unknown name as stored."""
    kind = _BY_NAME.get(name)
    return kind.grant_label if kind else name


def resolve_alias(word: str) -> Kind | None:
    """Return the kind a K9s alias, plural or singular name stands for, or None."""
    return _BY_ALIAS.get((word or "").strip().lower())


def kind_for_api_kind(api_kind: str) -> Kind | None:
    """Return the kind whose objects carry this ``kind`` field (e.g. "Pod"), or None."""
    return _BY_API_KIND.get((api_kind or "").lower())

