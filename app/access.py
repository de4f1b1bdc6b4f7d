"""The access policy: what a user may do with which resource kinds in which namespaces.

Every caller asks the one question `Access.allows(namespace, kind, verb)` (or a method built on
it) of an `Access` read once per request with `access_for(user)`. The answer is checked on the
server for every endpoint; the API server checks the same grants again because workload reads
are made as the user (see app.cluster.rbac_sync).

A verb names what the user wants to do. Today a grant's kinds may be viewed; a new verb is a new
entry in VERBS and a column of the grant, not a change in the callers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import sqlalchemy as sa

from app.extensions import db
from app.kinds import KINDS, Kind
from app.models import Grant

VIEW = "view"
VERBS = (VIEW,)


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

    def _granted(self, verb: str) -> Mapping[str, frozenset[str]]:
        if verb not in VERBS:
            raise ValueError(f"unknown verb {verb!r}")
        return self.grants.get(verb, {})

    def allows(self, namespace: str | None, kind: Kind | str | None = None, verb: str = VIEW) -> bool:
        """May the user `verb` objects of `kind` (a Kind or its grant name) in `namespace`?"""
        granted = self._granted(verb)
        if self.admin:
            return True
        return namespace is not None and _covers(granted.get(namespace, frozenset()), kind)

    def namespaces(self, kind: Kind | str | None = None, verb: str = VIEW) -> list[str] | None:
        """Sorted namespaces where `kind` (None: any kind) is granted; None for administrators,
        who may use every namespace."""
        return None if self.admin else self.granted_namespaces(kind, verb)

    def granted_namespaces(self, kind: Kind | str | None = None, verb: str = VIEW) -> list[str]:
        """Sorted namespaces with an explicit grant (administrators' own grants too)."""
        return sorted(ns for ns, kinds in self._granted(verb).items() if _covers(kinds, kind))

    def kinds(self, verb: str = VIEW) -> list[Kind]:
        """The registered kinds granted in at least one namespace, in registry order."""
        granted = {k for kinds in self._granted(verb).values() for k in kinds}
        return [k for k in KINDS if self.admin or k.name in granted]

    @property
    def has_any(self) -> bool:
        """True when the user may see anything at all."""
        return self.admin or any(self.grants.get(VIEW, {}).values())


def _covers(kinds: frozenset[str], kind: Kind | str | None) -> bool:
    """True when a grant's kinds include `kind`; for kind None, when they include any."""
    if kind is None:
        return bool(kinds)
    return (kind.name if isinstance(kind, Kind) else kind) in kinds


NOBODY = Access()


def access_for(user) -> Access:
    """Read the user's grants. Disabled or anonymous users get nothing."""
    if user is None or not getattr(user, "is_authenticated", False) or user.is_disabled:
        return NOBODY
    rows = db.session.scalars(sa.select(Grant).where(Grant.user_id == user.id))
    view = {grant.namespace: frozenset(grant.kinds) for grant in rows if grant.kinds}
    return Access(admin=is_admin(user), grants={VIEW: view})
