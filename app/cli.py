"""flask CLI commands: users, seed-admin, rbac sync."""

import secrets
import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup, with_appcontext

from app import sessions
from app.auth import audit
from app.extensions import db
from app.models import User

users_cli = AppGroup("users", help="Manage Cluster Codex users.")
rbac_cli = AppGroup("rbac", help="Cluster RBAC for the users' grants.")


def _find(username):
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    return user


def _read_password(from_stdin):
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise click.ClickException("the password needs at least 8 characters")
    return password


def _sync_quietly(user):
    from app.cluster import rbac_sync
    from app.cluster.gateway import ClusterError

    try:
        rbac_sync.sync_user(user)
    except ClusterError as exc:
        click.echo(f"note: cluster RBAC not synced yet ({exc.message}); it will be retried.",
                   err=True)


@users_cli.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--email", default=None)
@click.option("--display-name", default=None)
def create_user(username, admin, password_stdin, email, display_name):
    """Create a local user (prompts for the password unless --password-stdin)."""
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise click.ClickException(f"user {username!r} already exists")
    password = _read_password(password_stdin)
    user = User(username=username, is_admin=admin, email=email, display_name=display_name)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit(None, "user.create", username, "via flask users create" + (" (admin)" if admin else ""))
    db.session.commit()
    click.echo(f"created {'administrator' if admin else 'user'} {username} (id {user.id})")
    if admin:
        _sync_quietly(user)


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password(username, password_stdin):
    """Set a local user's password; every session of that user ends."""
    user = _find(username)
    if user.oidc_subject:
        raise click.ClickException(f"{username!r} signs in through SSO; passwords are the "
                                   "provider's business")
    password = _read_password(password_stdin)
    user.set_password(password)
    sessions.end_all(user)
    audit(None, "user.password", username, "via flask users set-password; sessions ended")
    db.session.commit()
    click.echo(f"password of {username} changed; their sessions have ended")


@users_cli.command("promote")
@click.argument("username")
def promote(username):
    """Make an existing user an administrator."""
    user = _find(username)
    user.is_admin = True
    audit(None, "user.promote", username, "via flask users promote")
    db.session.commit()
    click.echo(f"{username} is now an administrator")
    _sync_quietly(user)


@users_cli.command("list")
def list_users():
    """List users: id, username, flags."""
    for user in db.session.scalars(sa.select(User).order_by(User.id)):
        flags = [f for f, on in (("admin", user.is_admin), ("disabled", user.is_disabled),
                                 ("oidc", user.oidc_subject)) if on]
        click.echo(f"{user.id}\t{user.username}\t{','.join(flags)}")


@click.command("seed-admin")
@click.option("--username", default="admin", show_default=True)
@with_appcontext
def seed_admin(username):
    """Create an administrator with a random password (printed once) unless one exists."""
    existing = db.session.scalar(sa.select(User).where(User.is_admin.is_(True)))
    if existing is not None:
        click.echo(f"an administrator already exists ({existing.username}); nothing created")
        return
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise click.ClickException(f"user {username!r} exists but is not an administrator; "
                                   f"use: flask users promote {username}")
    password = secrets.token_urlsafe(12)
    user = User(username=username, is_admin=True, display_name="Administrator")
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit(None, "user.create", username, "via flask seed-admin (admin)")
    db.session.commit()
    click.echo(f"created administrator {username!r} with password: {password}")
    _sync_quietly(user)


@rbac_cli.command("sync")
@click.option("--prune", is_flag=True,
              help="Also delete Cluster Codex bindings of users this database does not know.")
def rbac_sync_command(prune):
    """Reconcile every user's RoleBindings with the grants now."""
    from app.cluster import rbac_sync
    from app.cluster.gateway import ClusterError

    try:
        report = rbac_sync.sync_all(prune=prune)
    except ClusterError as exc:
        raise click.ClickException(f"cluster RBAC not synced: {exc.message}")
    click.echo(f"RBAC sync: {report.summary()}")
    for key, message in report.errors:
        click.echo(f"error {key}: {message}", err=True)
    if report.errors:
        sys.exit(1)


def init_app(app):
    app.cli.add_command(users_cli)
    app.cli.add_command(rbac_cli)
    app.cli.add_command(seed_admin)
