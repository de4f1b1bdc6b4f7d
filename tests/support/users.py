"""Seeding users and their grants, for tests and benchmarks alike (inside an app context).

    with app.app_context():
        user_id = add_user("ann", password=PASSWORD, grants={"team-a": {"pods"}})
        user_id = add_user("bob", grants={"team-a": {"pods"}}, changes={"team-a": {"deployments"}})

`lab_users` makes users for lab tests: random high ids (RoleBinding names,
cluster-codex-<id>-<kind>, never collide with another session sharing the lab), grants synced
into the lab's RBAC, revoked again at the end.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from functools import cache

from app.cluster.rbac_sync import sync_user
from app.extensions import db
from app.models import Grant, User


@cache
def password_hash(password: str) -> str:
    """A real scrypt hash, computed once per password: scrypt is slow on purpose."""
    probe = User()
    probe.set_password(password)
    return probe.password_hash


def add_user(username: str, *, password: str | None = None, admin: bool = False,
             grants: dict | None = None, changes: dict | None = None,
             grant_state: str | None = None, sync: bool = False, **fields) -> int:
    """Create a user holding `grants` ({namespace: kinds}) and `changes` ({namespace: kinds the
    user may also change}, granted for view too); return its id.

    ``grant_state`` marks the grants (e.g. "synced") without touching a cluster; ``sync`` writes
    the user's RoleBindings into the app's cluster instead.
    """
    user = User(username=username, is_admin=admin, **fields)
    if password:
        user.password_hash = password_hash(password)
    grants, changes = grants or {}, changes or {}
    for namespace in {**grants, **changes}:
        change = set(changes.get(namespace, ()))
        grant = Grant(namespace=namespace, kinds=set(grants.get(namespace, ())) | change,
                      change_kinds=change)
        if grant_state:
            grant.sync_state = grant_state
        user.grants.append(grant)
    db.session.add(user)
    db.session.commit()
    if sync:
        sync_user(user)
    return user.id


@contextmanager
def lab_users(app, password):
    """Yield make(username, grants={ns: kinds}, admin=False, changes=None) -> user id; revoke all
    at exit."""
    made = []

    def make(username, grants=None, admin=False, changes=None):
        with app.app_context():
            user_id = add_user(username, id=random.randint(100_000, 2_000_000_000),
                               password=password, admin=admin, grants=grants, changes=changes,
                               sync=True)
        made.append(user_id)
        return user_id

    yield make
    with app.app_context():
        for user_id in made:
            user = db.session.get(User, user_id)
            user.grants.clear()
            user.is_admin = False
            db.session.commit()
            sync_user(user)  # removes the user's RoleBindings from the lab
