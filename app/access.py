"""The access policy: what a user may do with which resource kinds in which namespaces.

Every caller asks the one question `Access.allows(namespace, kind, verb)` (or a method built on
it) of an `Access` read once per request with `access_for(user)`. The answer is checked on the
server for every endpoint; the API server checks the same grants again because workload reads
are made as the user (see app.cluster.rbac_sync).

A verb names what the user wants to do: VIEW (see the kind's objects) or CHANGE (create, patch,
delete them through an action, app.actions). A grant's change kinds imply view of them. Only
CHANGEABLE_KINDS can be changed at all, by anyone: events are the cluster's record of what
happened (changing them would rewrite the evidence K8sGPT and the plans read), and any write to a
Secret carries its values in the command, the dry-run answer and the audit log, which the app
promises never to show or store. A new verb is a new entry in VERBS and a column of the grant,
not a change in the callers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.kinds import KINDS, Kind
from app.models import Grant

VIEW = "view"
CHANGE = "change"
VERBS = (VIEW, CHANGE)

UNCHANGEABLE = frozenset({"events", "secrets"})  # why: see the module docstring
CHANGEABLE_KINDS: tuple[Kind, ...] = tuple(
    k for k in KINDS if k.namespaced and k.name not in UNCHANGEABLE)
CHANGEABLE_NAMES = frozenset(k.name for k in CHANGEABLE_KINDS)


def actions_enabled(config) -> bool:
    """False in read-only mode (CODEX_ACTIONS off): every action is refused, nobody may change."""
    return bool(config["CODEX_ACTIONS"])


def approval_by_admin(config) -> bool:
    """True when an administrator approves each Apply (CODEX_APPROVAL=admin), not its user."""
    return config["CODEX_APPROVAL"] != "self"  # a mistyped value fails closed: four eyes


def is_admin(user) -> bool:
    """True for a signed-in, enabled administrator."""
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and not user.is_disabled and user.is_admin)


@dataclass(frozen=True)
class Access:
    """One user's grants: namespace -> kind names, per verb. Administrators may do everything.

    namespace None means a cluster-scoped object (administrators only); kind None asks about the
    namespace as a whole (any kind granted).
    """

    admin: bool = False
    grants: Mapping[str, Mapping[str, frozenset[str]]] = field(default_factory=dict)
    read_only: bool = False  # CODEX_ACTIONS off: CHANGE is refused to everyone

    def _granted(self, verb: str) -> Mapping[str, frozenset[str]]:
        if verb not in VERBS:
            raise ValueError(f"unknown verb {verb!r}")
        return {} if self._switched_off(verb) else self.grants.get(verb, {})

    def _switched_off(self, verb: str) -> bool:
        return verb == CHANGE and self.read_only

    def allows(self, namespace: str | None, kind: Kind | str | None = None, verb: str = VIEW) -> bool:
        """May the user `verb` objects of `kind` (a Kind or its grant name) in `namespace`?

        CHANGE needs a namespace, a changeable kind (kind None: any) and actions on (not
        read-only mode), administrators included.
        """
        granted = self._granted(verb)
        if verb == CHANGE and (self.read_only or namespace is None or not _changeable(kind)):
            return False
        if self.admin:
            return True
        return namespace is not None and _covers(granted.get(namespace, frozenset()), kind)

    def namespaces(self, kind: Kind | str | None = None, verb: str = VIEW) -> list[str] | None:
        """Sorted namespaces where `kind` (None: any kind) is granted; None for administrators,
        who may use every namespace."""
        if self.admin and not self._switched_off(verb):
            return None
        return self.granted_namespaces(kind, verb)

    def granted_namespaces(self, kind: Kind | str | None = None, verb: str = VIEW) -> list[str]:
        """Sorted namespaces with an explicit grant (administrators' own grants too)."""
        return sorted(ns for ns, kinds in self._granted(verb).items() if _covers(kinds, kind))

    def kinds(self, verb: str = VIEW) -> list[Kind]:
        """The registered kinds granted in at least one namespace, in registry order."""
        if self._switched_off(verb):
            return []
        granted = {k for kinds in self._granted(verb).values() for k in kinds}
        return [k for k in (CHANGEABLE_KINDS if verb == CHANGE else KINDS)
                if self.admin or k.name in granted]

    @property
    def has_any(self) -> bool:
        """True when the user may see anything at all."""
        return self.admin or any(self.grants.get(VIEW, {}).values())


def _covers(kinds: frozenset[str], kind: Kind | str | None) -> bool:
    """True when a grant's kinds include `kind`; for kind None, when they include any."""
    if kind is None:
        return bool(kinds)
    return (kind.name if isinstance(kind, Kind) else kind) in kinds


def _changeable(kind: Kind | str | None) -> bool:
    return kind is None or (kind.name if isinstance(kind, Kind) else kind) in CHANGEABLE_NAMES


NOBODY = Access()


def grant_levels(grant: Grant) -> tuple[frozenset[str], frozenset[str]]:
    """(kinds the grant lets its user view, kinds it lets them change): change implies view, and
    only changeable kinds count. RBAC sync binds exactly these (app.cluster.rbac_sync)."""
    change = grant.change_kinds & CHANGEABLE_NAMES
    return grant.kinds | change, change


def access_for(user) -> Access:
    """Read the user's grants. Disabled or anonymous users get nothing."""
    if user is None or not getattr(user, "is_authenticated", False) or user.is_disabled:
        return NOBODY
    rows = db.session.scalars(sa.select(Grant).where(Grant.user_id == user.id))
    levels = {grant.namespace: grant_levels(grant) for grant in rows}
    return Access(admin=is_admin(user), read_only=not actions_enabled(current_app.config), grants={
        VIEW: {ns: view for ns, (view, _) in levels.items() if view},
        CHANGE: {ns: change for ns, (_, change) in levels.items() if change},
    })
