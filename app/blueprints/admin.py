"""The admin portal: users, their namespace grants, the audit log."""

import re

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required

from app import sessions
from app.access import CHANGEABLE_NAMES, actions_enabled, is_admin
from app.kinds import KIND_NAMES, grant_label
from app.auth import audit
from app.cluster import rbac_sync
from app.cluster.gateway import ClusterError, Unavailable, gateway
from app.extensions import db
from app.models import AuditEvent, Grant, User
from app.web.htmx import render
from app.web.urls import safe_next

bp = Blueprint("admin", __name__, url_prefix="/admin")

NAMESPACE_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,149}$")
AUDIT_PAGE_SIZE = 50


@bp.before_request
@login_required
def require_admin():
    """Administrators only; retry RBAC syncs that are still pending on page loads."""
    if not is_admin(current_user):
        abort(403, "The admin portal is for administrators.")
    if request.method == "GET":
        try:
            rbac_sync.sync_pending()
        except ClusterError:
            pass  # shown per grant; the next load or the periodic sync retries


def _user_or_404(user_id):
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, "No such user.")
    return user


def _active_admins():
    return db.session.scalar(sa.select(sa.func.count(User.id)).where(
        User.is_admin.is_(True), User.is_disabled.is_(False)))


def _users_page(status=200, errors=None, form=None):
    users = db.session.scalars(sa.select(User).order_by(User.username)).all()
    return render("admin/users.html", block="panel", status=status, users=users,
                  errors=errors or {}, form=form or {})


@bp.get("/")
def index():
    """Send admins to the user list."""
    return redirect(url_for("admin.users"))


@bp.get("/users")
def users():
    """List users, with the form to create a local one."""
    return _users_page()


def _validate_new_user(form):
    errors = {}
    username = form.get("username", "").strip()
    if not USERNAME_RE.match(username):
        errors["username"] = "Use 1–150 letters, digits, dots, dashes, underscores or @."
    elif db.session.scalar(sa.select(User.id).where(User.username == username)):
        errors["username"] = f"A user named {username} already exists."
    password = form.get("password", "")
    if len(password) < 8:
        errors["password"] = "Use at least 8 characters."
    elif password != form.get("password_confirm", ""):
        errors["password_confirm"] = "The two passwords differ."
    email = form.get("email", "").strip()
    if email and "@" not in email:
        errors["email"] = "That is not an email address."
    return errors


@bp.post("/users")
def create_user():
    """Create a local user."""
    errors = _validate_new_user(request.form)
    if errors:
        return _users_page(422, errors, request.form)
    user = User(username=request.form["username"].strip(),
                email=request.form.get("email", "").strip() or None,
                display_name=request.form.get("display_name", "").strip() or None,
                is_admin=request.form.get("is_admin") == "on")
    user.set_password(request.form["password"])
    db.session.add(user)
    db.session.flush()
    audit(current_user, "user.create", user.username, "administrator" if user.is_admin else None)
    db.session.commit()
    if user.is_admin:
        _sync_and_flash(user, "Administrator created.")
    else:
        flash(f"User {user.username} created.", "success")
    return redirect(url_for("admin.users"), 303)


USER_ACTIONS = {
    "disable": ("is_disabled", True, "disabled"),
    "enable": ("is_disabled", False, "enabled"),
    "promote": ("is_admin", True, "made an administrator"),
    "demote": ("is_admin", False, "no longer an administrator"),
}


@bp.post("/users/<int:user_id>/<any(disable, enable, promote, demote):action>")
def change_user(user_id, action):
    """Disable, enable, promote or demote a user; never leave the portal without an admin."""
    user = _user_or_404(user_id)
    column, value, done = USER_ACTIONS[action]
    losing_admin = action in ("disable", "demote") and user.is_admin and not user.is_disabled
    if losing_admin and _active_admins() <= 1:
        flash(f"{user.username} is the last active administrator; promote someone else first.",
              "error")
        return _users_page(409)
    if action == "disable" and user.id == current_user.id:
        flash("You cannot disable your own account.", "error")
        return _users_page(409)
    if getattr(user, column) != value:
        setattr(user, column, value)
        if action == "disable":  # so re-enabling later does not revive the old sessions
            sessions.end_all(user)
        audit(current_user, f"user.{action}", user.username)
        db.session.commit()
    # Disabling or demoting takes bindings away; enabling and promoting adds them.
    _sync_and_flash(user, f"{user.username} {done}.")
    return redirect(safe_next(request.form.get("back")) or url_for("admin.users"), 303)


def _sync_and_flash(user, message):
    """Push the user's grants to the cluster and tell the admin how that went."""
    try:
        report = rbac_sync.sync_user(user)
    except Unavailable:
        flash(f"{message} Saved; cluster RBAC will be synced when the cluster is reachable.",
              "warning")
        return
    if report.errors:
        flash(f"{message} Saved, but the cluster refused some RBAC changes: "
              f"{report.errors[0][1]}", "warning")
    else:
        flash(message, "success")


def _cluster_namespaces():
    """(namespaces, None) from the cluster, or (None, reason) when it cannot be listed."""
    try:
        return gateway().list_namespaces(), None
    except ClusterError as exc:
        return None, exc.message


def _levels_context():
    """What the kind/level checkboxes need (admin/_kind_levels.html)."""
    return {"kinds": KIND_NAMES, "changeable": CHANGEABLE_NAMES,
            "actions_on": actions_enabled(current_app.config)}


def _user_page(user, status=200, errors=None, form=None):
    namespaces, cluster_error = _cluster_namespaces()
    return render("admin/user.html", block="panel", status=status, user=user,
                  grants=user.grants, namespaces=namespaces, cluster_error=cluster_error,
                  errors=errors or {}, form=form or {}, **_levels_context())


@bp.get("/users/<int:user_id>")
def user(user_id):
    """Show one user and their grants, with the form to add a grant."""
    return _user_page(_user_or_404(user_id))


def _validate_grant(form):
    errors = {}
    namespace = form.get("namespace", "").strip()
    if not namespace:
        errors["namespace"] = "Pick or type a namespace."
    elif len(namespace) > 63 or not NAMESPACE_RE.match(namespace):
        errors["namespace"] = ("Not a valid namespace name: lower-case letters, digits and '-', "
                               "at most 63 characters.")
    kinds, change = _validate_levels(form, errors)
    return errors, namespace, kinds, change


def _validate_levels(form, errors):
    """The kinds to grant and those of them the user may also change; problems go into errors."""
    kinds, change = set(form.getlist("kinds")), set(form.getlist("change"))
    unknown = (kinds | change) - set(KIND_NAMES)
    if not kinds:
        errors["kinds"] = "Choose at least one kind."
    elif unknown:
        errors["kinds"] = f"Unknown kinds: {', '.join(sorted(unknown))}."
    elif change - CHANGEABLE_NAMES:
        errors["change"] = (f"{_labels(change - CHANGEABLE_NAMES)} cannot be changed through "
                            "Cluster Codex (see the note below).")
    elif change - kinds:
        errors["change"] = (f"Also grant {_labels(change - kinds)}: a user may change only "
                            "kinds they may see.")
    return kinds, change


def _labels(names):
    return ", ".join(grant_label(name).split(" (")[0] for name in sorted(names))


def _described(kinds, namespace, change):
    """'deployments, pods in team-a; may change deployments' (the flashes' wording)."""
    text = f"{', '.join(sorted(kinds))} in {namespace}"
    return f"{text}; may change {', '.join(sorted(change))}" if change else text


def _merged(namespace, added, upgraded):
    bits = [f"added {', '.join(sorted(added))} to that grant"] if added else []
    if upgraded:
        bits.append(f"may now change {', '.join(sorted(upgraded))}")
    return f"{namespace} was already granted; {'; '.join(bits)}."


def _levels_detail(grant):
    return f"kinds: {grant.kinds_csv}; change: {grant.change_kinds_csv or '-'}"


@bp.post("/users/<int:user_id>/grants")
def add_grant(user_id):
    """Grant kinds in a namespace; a second grant for the same namespace adds its kinds and
    change levels (lowering a level is an edit of the grant)."""
    user = _user_or_404(user_id)
    errors, namespace, kinds, change = _validate_grant(request.form)
    if errors:
        return _user_page(user, 422, errors, request.form)
    grant = db.session.scalar(sa.select(Grant).where(Grant.user_id == user.id,
                                                     Grant.namespace == namespace))
    if grant is not None and kinds <= grant.kinds and change <= grant.change_kinds:
        flash(f"{user.username} already has {_described(kinds, namespace, change)}; "
              "nothing changed.", "info")
        return redirect(url_for("admin.user", user_id=user.id), 303)
    if grant is None:
        grant = Grant(user=user, namespace=namespace, kinds=kinds, change_kinds=change,
                      created_by=current_user.username)
        db.session.add(grant)
        message = f"Granted {_described(kinds, namespace, change)}."
    else:
        message = _merged(namespace, kinds - grant.kinds, change - grant.change_kinds)
        grant.kinds, grant.change_kinds = grant.kinds | kinds, grant.change_kinds | change
    grant.sync_state, grant.sync_message = "pending", None
    audit(current_user, "grant.create", f"{user.username} {namespace}", _levels_detail(grant))
    db.session.commit()
    _sync_and_flash(user, message)
    return redirect(url_for("admin.user", user_id=user.id), 303)


def _grant_or_404(user, grant_id):
    grant = db.session.get(Grant, grant_id)
    if grant is None or grant.user_id != user.id:
        abort(404, "No such grant.")
    return grant


def _grant_page(user, grant, status=200, errors=None, form=None):
    return render("admin/grant.html", block="panel", status=status, user=user, grant=grant,
                  errors=errors or {}, form=form, **_levels_context())


@bp.get("/users/<int:user_id>/grants/<int:grant_id>")
def grant(user_id, grant_id):
    """Show one grant with the form to change its kinds and levels."""
    user = _user_or_404(user_id)
    return _grant_page(user, _grant_or_404(user, grant_id))


@bp.post("/users/<int:user_id>/grants/<int:grant_id>")
def update_grant(user_id, grant_id):
    """Replace a grant's kinds and levels (how a change level is lowered to view)."""
    user = _user_or_404(user_id)
    grant = _grant_or_404(user, grant_id)
    errors = {}
    kinds, change = _validate_levels(request.form, errors)
    if errors:
        return _grant_page(user, grant, 422, errors, request.form)
    if kinds == grant.kinds and change == grant.change_kinds:
        flash(f"{grant.namespace}: nothing changed.", "info")
        return redirect(url_for("admin.user", user_id=user.id), 303)
    before = _levels_detail(grant)
    grant.kinds, grant.change_kinds = kinds, change
    grant.sync_state, grant.sync_message = "pending", None
    audit(current_user, "grant.update", f"{user.username} {grant.namespace}",
          f"{_levels_detail(grant)} (was {before})")
    db.session.commit()
    _sync_and_flash(user, f"{user.username} now has {_described(kinds, grant.namespace, change)}.")
    return redirect(url_for("admin.user", user_id=user.id), 303)


@bp.post("/users/<int:user_id>/grants/<int:grant_id>/revoke")
def revoke_grant(user_id, grant_id):
    """Revoke a grant; its RoleBindings go with it."""
    user = _user_or_404(user_id)
    grant = _grant_or_404(user, grant_id)
    namespace = grant.namespace
    audit(current_user, "grant.revoke", f"{user.username} {namespace}", _levels_detail(grant))
    db.session.delete(grant)
    user.rbac_pending = True  # cleared by a successful sync
    db.session.commit()
    _sync_and_flash(user, f"Revoked {namespace}.")
    return redirect(url_for("admin.user", user_id=user.id), 303)


@bp.post("/rbac/sync")
def sync_rbac():
    """Reconcile every user's RoleBindings with the grants now."""
    try:
        report = rbac_sync.sync_all()
    except ClusterError as exc:
        flash(f"Cluster RBAC not synced: {exc.message}", "warning")
    else:
        flash(f"Cluster RBAC synced: {report.summary()}.", "success" if report.ok else "warning")
    return redirect(url_for("admin.users"), 303)


@bp.get("/audit")
def audit_log():
    """Show the audit log, newest first, a page at a time."""
    page = request.args.get("page", "1")
    page = max(int(page), 1) if page.isdigit() else 1
    pagination = db.paginate(
        sa.select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()),
        page=page, per_page=AUDIT_PAGE_SIZE, error_out=False,
    )
    return render("admin/audit.html", block="panel", pagination=pagination)
