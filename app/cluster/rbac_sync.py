"""Reconcile users' grants into Kubernetes RBAC.

Per grant and kind: a RoleBinding `cluster-codex-<userid>-<kind>` in the granted
namespace, binding ClusterRole `cluster-codex:view:<kind>` to the user's
ServiceAccount-shaped name, and for each kind the grant lets them change a second one,
`cluster-codex-<userid>-change-<kind>` to `cluster-codex:change:<kind>`. Administrators
additionally get one ClusterRoleBinding per kind (`cluster-codex-admin-<userid>-<kind>`,
and `cluster-codex-admin-<userid>-change-<kind>` per changeable kind) so "admins see
(and change) everything" holds at the API server too. Read-only mode (CODEX_ACTIONS off)
binds no change role, so the API server refuses every change as well. Every object carries
the managed-by and user-id labels; a sync lists what exists by label, creates what is
missing, replaces what drifted and deletes what is no longer granted (a change level
lowered to view loses its change binding).
"""

import logging
import threading
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app

from app.access import CHANGEABLE_NAMES, actions_enabled, grant_levels
from app.cluster import paths
from app.cluster.gateway import ClusterError, Conflict, NotFound, Unavailable, gateway, user_subject_name
from app.extensions import db
from app.kinds import KIND_NAMES
from app.models import Grant, User, utcnow

log = logging.getLogger(__name__)

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "cluster-codex"
USER_ID_LABEL = "cluster-codex.io/user-id"
RB_PATH = "/apis/rbac.authorization.k8s.io/v1"
MANAGED_SELECTOR = f"{MANAGED_BY}={MANAGED_BY_VALUE}"

PENDING_MESSAGE = "saved; cluster RBAC will be synced when the cluster is reachable"


VIEW_LEVEL, CHANGE_LEVEL = "view", "change"


def cluster_role_name(kind, level=VIEW_LEVEL):
    return f"cluster-codex:{level}:{kind}"


def _level_infix(level):
    return "" if level == VIEW_LEVEL else f"{level}-"


def role_binding_name(user_id, kind, level=VIEW_LEVEL):
    return f"cluster-codex-{user_id}-{_level_infix(level)}{kind}"


def admin_binding_name(user_id, kind, level=VIEW_LEVEL):
    return f"cluster-codex-admin-{user_id}-{_level_infix(level)}{kind}"


@dataclass
class SyncReport:
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    deleted: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    waiting: list = field(default_factory=list)  # namespaces that do not exist yet

    @property
    def ok(self):
        return not self.errors

    def summary(self):
        return (f"{len(self.created)} created, {len(self.updated)} repaired, "
                f"{len(self.deleted)} deleted, {len(self.errors)} errors")


def _binding(kind_name, name, user_id, kind, gw, namespace=None, level=VIEW_LEVEL):
    metadata = {"name": name, "labels": {MANAGED_BY: MANAGED_BY_VALUE, USER_ID_LABEL: str(user_id)}}
    if namespace:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind_name,
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": cluster_role_name(kind, level)},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                      "name": user_subject_name(user_id, gw.users_namespace)}],
    }


def desired_bindings(user, gw, actions=True):
    """{(namespace or None, name): binding} the user should have; empty when disabled.

    actions False (read-only mode): view bindings only.
    """
    if user.is_disabled:
        return {}
    wanted = {}
    for grant in user.grants:
        for level, kinds in _levels(*grant_levels(grant), actions):
            for kind in sorted(kinds & set(KIND_NAMES)):
                name = role_binding_name(user.id, kind, level)
                wanted[(grant.namespace, name)] = _binding("RoleBinding", name, user.id, kind, gw,
                                                           grant.namespace, level)
    if user.is_admin:
        for level, kinds in _levels(set(KIND_NAMES), CHANGEABLE_NAMES, actions):
            for kind in sorted(kinds):
                name = admin_binding_name(user.id, kind, level)
                wanted[(None, name)] = _binding("ClusterRoleBinding", name, user.id, kind, gw,
                                                level=level)
    return wanted


def _levels(view, change, actions):
    return [(VIEW_LEVEL, view), (CHANGE_LEVEL, change if actions else frozenset())]


def _actions():
    return actions_enabled(current_app.config)


def _existing(gw, api, selector):
    found = {}
    for item in gw.get(api, f"{RB_PATH}/rolebindings", labelSelector=selector).get("items", []):
        meta = item["metadata"]
        found[(meta["namespace"], meta["name"])] = item
    for item in gw.get(api, f"{RB_PATH}/clusterrolebindings",
                       labelSelector=selector).get("items", []):
        found[(None, item["metadata"]["name"])] = item
    return found


def _path(key):
    namespace, name = key
    if namespace is None:
        return f"{RB_PATH}/clusterrolebindings/{paths.name_segment(name)}"
    return (f"{RB_PATH}/namespaces/{paths.namespace_segment(namespace)}"
            f"/rolebindings/{paths.name_segment(name)}")


def _collection(key):
    return _path(key).rsplit("/", 1)[0]


def _drifted(have, want):
    labels = have["metadata"].get("labels") or {}
    return (
        have.get("roleRef") != want["roleRef"]
        or have.get("subjects") != want["subjects"]
        or any(labels.get(k) != v for k, v in want["metadata"]["labels"].items())
    )


def _apply(gw, api, wanted, existing, report):
    """Make `existing` equal `wanted`; per-object errors go into the report."""
    for key, want in wanted.items():
        have = existing.get(key)
        try:
            if have is None:
                try:
                    gw.request(api, "POST", _collection(key), body=want)
                    report.created.append(key)
                # Created by hand without our labels: try to take it over; the chart's admission
                # policy refuses (the grant then shows its message) unless it is labelled ours.
                except Conflict:
                    _replace(gw, api, key, want)
                    report.updated.append(key)
            elif _drifted(have, want):
                _replace(gw, api, key, want)
                report.updated.append(key)
        except Unavailable:
            raise
        except NotFound as exc:  # the namespace does not exist yet
            report.waiting.append((key, exc.message))
        except ClusterError as exc:
            report.errors.append((key, exc.message))
    for key in existing.keys() - wanted.keys():
        try:
            gw.request(api, "DELETE", _path(key))
            report.deleted.append(key)
        except NotFound:
            pass
        except Unavailable:
            raise
        except ClusterError as exc:
            report.errors.append((key, exc.message))


def _replace(gw, api, key, want):
    # roleRef is immutable, so delete and create rather than update.
    try:
        gw.request(api, "DELETE", _path(key))
    except NotFound:
        pass
    gw.request(api, "POST", _collection(key), body=want)


def _record(user, report, error=None):
    """Store the outcome on the user's grants (the caller commits)."""
    failed_namespaces = {key[0]: msg for key, msg in report.errors}
    waiting_namespaces = {key[0] for key, _ in report.waiting}
    now = utcnow()
    for grant in user.grants:
        if error is not None:
            grant.sync_state, grant.sync_message = "pending", error
        elif grant.namespace in waiting_namespaces:
            grant.sync_state = "pending"
            grant.sync_message = "namespace does not exist yet; bindings follow when it does"
        elif grant.namespace in failed_namespaces:
            grant.sync_state, grant.sync_message = "error", failed_namespaces[grant.namespace]
        else:
            grant.sync_state, grant.sync_message, grant.synced_at = "synced", None, now
    user.rbac_pending = error is not None or bool(report.errors or report.waiting)


def sync_user(user, gw=None):
    """Reconcile one user's bindings; record the state on their grants. Commits."""
    gw = gw or gateway()
    report = SyncReport()
    try:
        api = gw.as_app()
        existing = _existing(gw, api, f"{MANAGED_SELECTOR},{USER_ID_LABEL}={user.id}")
        _apply(gw, api, desired_bindings(user, gw, _actions()), existing, report)
    except Unavailable as exc:
        _record(user, report, error=f"{PENDING_MESSAGE} ({exc.message})")
        db.session.commit()
        raise
    except ClusterError as exc:
        report.errors.append(((None, "*"), exc.message))
        _record(user, report, error=f"RBAC sync failed: {exc.message}")
        db.session.commit()
        return report
    _record(user, report)
    db.session.commit()
    return report


def sync_all(gw=None, prune=False):
    """Reconcile every user's bindings; with prune, also delete managed bindings of unknown users.

    Pruning is opt-in because several app instances (a dev server, test runs) may share
    one cluster, and each only knows its own database's users.
    """
    gw = gw or gateway()
    api = gw.as_app()
    existing = _existing(gw, api, MANAGED_SELECTOR)
    users = db.session.scalars(sa.select(User).options(sa.orm.selectinload(User.grants))).all()
    total = SyncReport()
    by_user = {}
    for key, item in existing.items():
        by_user.setdefault((item["metadata"].get("labels") or {}).get(USER_ID_LABEL), {})[key] = item
    for user in users:
        report = SyncReport()
        _apply(gw, api, desired_bindings(user, gw, _actions()), by_user.pop(str(user.id), {}), report)
        _record(user, report)
        for name in ("created", "updated", "deleted", "errors", "waiting"):
            getattr(total, name).extend(getattr(report, name))
    if prune:
        for orphans in by_user.values():
            _apply(gw, api, {}, orphans, total)
    db.session.commit()
    return total


def sync_pending(gw=None, retry_after=30):
    """Retry users whose last sync did not finish; skip while the cluster was just seen down."""
    gw = gw or gateway()
    since = gw.unavailable_since
    if since is not None and time.time() - since.timestamp() < retry_after:
        return None
    users = db.session.scalars(sa.select(User).where(
        sa.or_(User.rbac_pending.is_(True),
               User.id.in_(sa.select(Grant.user_id).where(Grant.sync_state != "synced")))
    )).all()
    for user in users:
        try:
            sync_user(user, gw)
        except Unavailable:
            return False
    return True


def init_app(app):
    """Start the periodic sync on the app's first request: never for CLI commands or at import."""

    @app.before_request
    def _start_periodic_sync():
        if not app.extensions.get("codex_rbac_thread"):
            start_periodic_sync(app)


def start_periodic_sync(app):
    """Run sync_all at start and then every CODEX_RBAC_SYNC_INTERVAL seconds, in a daemon thread."""
    interval = app.config["CODEX_RBAC_SYNC_INTERVAL"]
    if interval <= 0 or app.extensions.get("codex_rbac_thread"):
        return None

    def loop():
        while True:
            with app.app_context():
                try:
                    report = sync_all(prune=app.config["CODEX_RBAC_PRUNE"])
                    log.info("RBAC sync: %s", report.summary())
                except ClusterError as exc:
                    log.warning("RBAC sync postponed: %s", exc.message)
                except Exception:  # keep the loop alive; the next round retries
                    log.exception("RBAC sync failed")
                finally:
                    db.session.remove()
            time.sleep(interval)

    thread = threading.Thread(target=loop, name="codex-rbac-sync", daemon=True)
    app.extensions["codex_rbac_thread"] = thread
    thread.start()
    return thread
