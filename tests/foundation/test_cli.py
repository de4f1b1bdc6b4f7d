"""flask CLI: users create / promote / list, seed-admin."""

import re

import sqlalchemy as sa

from app.extensions import db
from app.models import User


def _user(app, name):
    with app.app_context():
        return db.session.scalar(sa.select(User).where(User.username == name))


def test_create_user_with_password_from_stdin(app, runner, auth):
    result = runner.invoke(args=["users", "create", "ann", "--password-stdin"],
                           input="a good password\n")
    assert result.exit_code == 0, result.output
    assert "created user ann" in result.output
    user = _user(app, "ann")
    assert not user.is_admin and user.check_password("a good password")
    assert auth.login("ann", "a good password").status_code == 303


def test_create_admin(app, runner):
    result = runner.invoke(args=["users", "create", "root", "--admin", "--password-stdin"],
                           input="a good password\n")
    assert result.exit_code == 0, result.output
    assert _user(app, "root").is_admin
    # The cluster is unreachable in these tests: said, not fatal.
    assert "cluster RBAC not synced yet" in result.output


def test_create_refuses_duplicates_and_short_passwords(app, runner, make_user):
    make_user("ann")
    result = runner.invoke(args=["users", "create", "ann", "--password-stdin"], input="whatever1\n")
    assert result.exit_code != 0 and "already exists" in result.output
    result = runner.invoke(args=["users", "create", "bob", "--password-stdin"], input="short\n")
    assert result.exit_code != 0 and "at least 8" in result.output
    assert _user(app, "bob") is None


def test_promote(app, runner, make_user):
    make_user("ann")
    result = runner.invoke(args=["users", "promote", "ann"])
    assert result.exit_code == 0 and _user(app, "ann").is_admin
    result = runner.invoke(args=["users", "promote", "nobody"])
    assert result.exit_code != 0 and "no user named" in result.output


def test_seed_admin_prints_a_working_password_once(app, runner, auth):
    result = runner.invoke(args=["seed-admin"])
    assert result.exit_code == 0, result.output
    password = re.search(r"with password: (\S+)", result.output).group(1)
    assert auth.login("admin", password).status_code == 303
    again = runner.invoke(args=["seed-admin"])
    assert again.exit_code == 0 and "already exists" in again.output
    assert password not in again.output


def test_users_list(runner, make_user):
    make_user("ann", admin=True)
    result = runner.invoke(args=["users", "list"])
    assert "ann\tadmin" in result.output


def test_rbac_sync_says_when_the_cluster_is_unreachable(runner, make_user):
    make_user("ann", grants={"team-a": {"pods"}})
    result = runner.invoke(args=["rbac", "sync"])
    assert result.exit_code != 0
    assert "cluster RBAC not synced: cannot reach the API server" in result.output
