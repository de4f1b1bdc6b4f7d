"""The access policy: which namespaces and resource kinds a user may see.

The app checks this on the server for every endpoint; the API server checks the
same grants again because workload reads are made as the user (see rbac_sync).
"""

import sqlalchemy as sa

from app.extensions import db
from app.models import Grant

KINDS = (
    "pods",
    "deployments",
    "statefulsets",
    "daemonsets",
    "replicasets",
    "jobs",
    "cronjobs",
    "services",
    "ingresses",
    "configmaps",
    "persistentvolumeclaims",
    "events",
    "secrets",
)

KIND_LABELS = {
    "persistentvolumeclaims": "PVCs",
    "configmaps": "ConfigMaps",
    "statefulsets": "StatefulSets",
    "daemonsets": "DaemonSets",
    "replicasets": "ReplicaSets",
    "cronjobs": "CronJobs",
    # RBAC cannot grant names only: a Secrets grant lists the values too (see the grant form).
    "secrets": "Secrets (listing includes values)",
}


def kind_label(kind):
    """Human label for a kind name: 'pods' -> 'Pods'."""
    return KIND_LABELS.get(kind, kind.capitalize())


def grants_for(user):
    """Map each namespace granted to the user to the set of kinds allowed in it.

    Disabled or anonymous users get nothing. Administrators see everything; their
    explicit grants are returned as stored (use can_see / sees_namespace to ask).
    """
    if user is None or not getattr(user, "is_authenticated", False) or user.is_disabled:
        return {}
    rows = db.session.scalars(sa.select(Grant).where(Grant.user_id == user.id))
    return {grant.namespace: set(grant.kinds) for grant in rows}


def is_admin(user):
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and not user.is_disabled and user.is_admin)


def can_see(user, namespace, kind=None, grants=None):
    """True when the user may see objects of `kind` in `namespace`.

    namespace None means a cluster-scoped object (administrators only);
    kind None asks about the namespace as a whole (any kind granted).
    Pass `grants` (from grants_for) to avoid a query per call in loops.
    """
    if is_admin(user):
        return True
    if namespace is None:
        return False
    if grants is None:
        grants = grants_for(user)
    kinds = grants.get(namespace)
    if not kinds:
        return False
    return kind is None or kind in kinds


def visible_namespaces(user, grants=None):
    """Sorted namespaces the user has any grant in (admins: only their explicit grants)."""
    if grants is None:
        grants = grants_for(user)
    return sorted(ns for ns, kinds in grants.items() if kinds)
