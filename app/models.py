"""Database models: users, their namespace grants, and the audit log."""

from datetime import datetime, timezone

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.plans.core.vocabulary import RunStatus


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_users_oidc_identity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(150))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    display_name: Mapped[str | None] = mapped_column(sa.String(200))
    password_hash: Mapped[str | None] = mapped_column(sa.String(256))
    oidc_subject: Mapped[str | None] = mapped_column(sa.String(255))
    oidc_issuer: Mapped[str | None] = mapped_column(sa.String(500))
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_disabled: Mapped[bool] = mapped_column(default=False)
    # Set when a grant change could not be pushed to the cluster yet (revokes included).
    rbac_pending: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()
    # Part of every session: bumped on sign-out, disable and password change (app.sessions).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Row-locked while a plan slot is reserved (app.plans.limits): one Generate at a time per user.
    plan_slot_lock: Mapped[int] = mapped_column(default=0, server_default="0")

    grants: Mapped[list["Grant"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Grant.namespace"
    )

    def set_password(self, password):
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password):
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def is_active(self):
        return not self.is_disabled

    @property
    def label(self):
        return self.display_name or self.username

    def __repr__(self):
        return f"<User {self.id} {self.username}>"


class Grant(db.Model):
    """A namespace granted to a user, with the resource kinds allowed in it."""

    __tablename__ = "grants"
    __table_args__ = (sa.UniqueConstraint("user_id", "namespace", name="uq_grants_user_namespace"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    namespace: Mapped[str] = mapped_column(sa.String(63))
    # Comma-separated, sorted kind names (see app.kinds.KIND_NAMES).
    kinds_csv: Mapped[str] = mapped_column(sa.String(400))
    # The kinds (of kinds_csv) the user may also change, stored the same way; empty: view only.
    change_kinds_csv: Mapped[str] = mapped_column(sa.String(400), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(sa.String(150))
    # RBAC sync state: synced | pending | error, with the last message.
    sync_state: Mapped[str] = mapped_column(sa.String(16), default="pending")
    sync_message: Mapped[str | None] = mapped_column(sa.Text)
    synced_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship(back_populates="grants")

    @property
    def kinds(self):
        return frozenset(k for k in self.kinds_csv.split(",") if k)

    @kinds.setter
    def kinds(self, values):
        self.kinds_csv = ",".join(sorted(set(values)))

    @property
    def change_kinds(self):
        return frozenset(k for k in (self.change_kinds_csv or "").split(",") if k)

    @change_kinds.setter
    def change_kinds(self, values):
        self.change_kinds_csv = ",".join(sorted(set(values)))

    def __repr__(self):
        return f"<Grant {self.user_id} {self.namespace} {self.kinds_csv} change={self.change_kinds_csv}>"


class AuditEvent(db.Model):
    """One line of the audit log: who did what to what."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_name: Mapped[str | None] = mapped_column(sa.String(150))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    target: Mapped[str | None] = mapped_column(sa.String(300))
    detail: Mapped[str | None] = mapped_column(sa.Text)
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))


class PlanRun(db.Model):
    """One generated plan: who asked, about which finding, what was sent and received."""

    __tablename__ = "plan_runs"
    __table_args__ = (
        sa.Index("ix_plan_runs_finding", "finding_namespace", "finding_kind", "finding_name"),
        sa.Index("ix_plan_runs_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    result_name: Mapped[str] = mapped_column(sa.String(253))
    finding_kind: Mapped[str] = mapped_column(sa.String(63), default="")
    finding_namespace: Mapped[str] = mapped_column(sa.String(63), default="")
    finding_name: Mapped[str] = mapped_column(sa.String(253), default="")
    mode: Mapped[str] = mapped_column(sa.String(16))  # a PlanMode
    user_context: Mapped[str] = mapped_column(sa.Text, default="")
    model: Mapped[str] = mapped_column(sa.String(200), default="")
    prompt_text: Mapped[str] = mapped_column(sa.Text, default="")  # what an administrator reads
    prompt_messages: Mapped[str] = mapped_column(sa.Text, default="[]")  # JSON: exactly what was sent
    output_text: Mapped[str] = mapped_column(sa.Text, default="")
    prompt_tokens: Mapped[int | None] = mapped_column()
    completion_tokens: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    stream_opened_at: Mapped[datetime | None] = mapped_column()
    first_token_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(sa.String(16), default=RunStatus.STREAMING, index=True)  # a RunStatus
    stop_requested: Mapped[bool] = mapped_column(default=False)
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    # Kinds (app.kinds names, comma-separated) the prompt's live context was read from: a reader
    # must hold every one of them in the run's namespace (app.plans.runs.may_read).
    context_kinds: Mapped[str] = mapped_column(sa.String(400), default="", server_default="")

    user: Mapped[User | None] = relationship()


class PlanAction(db.Model):
    """One Run, Dry-run or Apply of a plan step, or its refusal (app.actions), written once its
    outcome is known: nothing is recorded as applied before the API server said so."""

    __tablename__ = "plan_actions"
    __table_args__ = (
        sa.Index("ix_plan_actions_run_created", "run_id", "created_at"),
        sa.Index("ix_plan_actions_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("plan_runs.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(16))  # an app.actions.outcome.ActionKind
    step_text: Mapped[str] = mapped_column(sa.Text)  # exactly as asked: an Apply must match it
    manifest_sha256: Mapped[str | None] = mapped_column(sa.String(64))  # `apply -f -` only
    # What the parser read (None when it refused the text).
    verb: Mapped[str | None] = mapped_column(sa.String(32))
    namespace: Mapped[str | None] = mapped_column(sa.String(63))
    kind: Mapped[str | None] = mapped_column(sa.String(63))
    name: Mapped[str | None] = mapped_column(sa.String(253))
    # The objects' metadata.resourceVersion when dry-run (or checked before an Apply):
    # "kind/name=version" joined by ";", "-" for an object that did not exist.
    resource_versions: Mapped[str | None] = mapped_column(sa.String(2000))
    identity: Mapped[str | None] = mapped_column(sa.String(300))  # who kubectl acted as
    status: Mapped[str] = mapped_column(sa.String(16))  # an app.actions.outcome.ActionStatus
    reason: Mapped[str] = mapped_column(sa.String(32))  # why, in one word (app.actions.outcome)
    status_code: Mapped[int] = mapped_column()
    message: Mapped[str] = mapped_column(sa.Text)
    exit_code: Mapped[int | None] = mapped_column()  # None: kubectl not started, or killed
    duration_ms: Mapped[int | None] = mapped_column()
    output: Mapped[str] = mapped_column(sa.Text, default="")  # bounded and redacted
    diff: Mapped[str] = mapped_column(sa.Text, default="")  # a dry-run's change, redacted
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    run: Mapped[PlanRun] = relationship()
    user: Mapped[User | None] = relationship()


class ApprovalRequest(db.Model):
    """A request that an administrator approve the Apply of a dry-run step (CODEX_APPROVAL=admin);
    an approved change is dry-run again and applied as the requester (app.actions.approvals)."""

    __tablename__ = "approval_requests"
    __table_args__ = (sa.Index("ix_approval_requests_state_created", "state", "created_at"),
                      sa.Index("ix_approval_requests_run", "run_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("plan_runs.id", ondelete="CASCADE"))
    requester_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    step_text: Mapped[str] = mapped_column(sa.Text)
    manifest: Mapped[str | None] = mapped_column(sa.Text)  # `apply -f -` only, as dry-run
    # The accepted dry-run the request rests on (its diff is what the administrator approves).
    dry_run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plan_actions.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(sa.String(16))  # an app.actions.approvals.ApprovalState
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column()
    message: Mapped[str] = mapped_column(sa.Text, default="")  # the decision's outcome, in words
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()

    run: Mapped[PlanRun] = relationship()
    requester: Mapped[User | None] = relationship(foreign_keys=[requester_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    dry_run: Mapped[PlanAction | None] = relationship()
