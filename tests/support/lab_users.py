"""Users made for lab tests: random high ids, grants synced into the lab's RBAC, cleaned up after.

Random ids keep RoleBinding names (cluster-codex-<id>-<kind>) from colliding with other test
sessions or a dev server sharing the same lab.
"""

from __future__ import annotations

import random
from contextlib import contextmanager

from app.cluster.rbac_sync import sync_user
from app.extensions import db
from app.models import Grant, User


@contextmanager
def lab_users(app, password):
    """Yield make(username, grants={ns: kinds}, admin=False) -> user id; revoke all at exit."""
    made = []

    def make(username, grants=None, admin=False):
        with app.app_context():
            user = User(id=random.randint(100_000, 2_000_000_000), username=username,
                        is_admin=admin)
            user.set_password(password)
            for namespace, kinds in (grants or {}).items():
                grant = Grant(namespace=namespace)
                grant.kinds = set(kinds)
                user.grants.append(grant)
            db.session.add(user)
            db.session.commit()
            sync_user(user)
            made.append(user.id)
            return user.id

    yield make
    with app.app_context():
        for user_id in made:
            user = db.session.get(User, user_id)
            user.grants.clear()
            user.is_admin = False
            db.session.commit()
            sync_user(user)  # removes the user's RoleBindings from the lab
