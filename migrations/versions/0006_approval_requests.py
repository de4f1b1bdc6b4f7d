"""Approval requests: an Apply an administrator approves or rejects (CODEX_APPROVAL=admin).

Revision ID: 0006_approval_requests
Revises: 0005_plan_actions
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_approval_requests"
down_revision = "0005_plan_actions"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("plan_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("requester_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("step_text", sa.Text(), nullable=False),
        sa.Column("manifest", sa.Text()),
        sa.Column("dry_run_id", sa.Integer(), sa.ForeignKey("plan_actions.id", ondelete="SET NULL")),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("decided_at", sa.DateTime()),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    # The admin page lists pending requests, oldest first; a run page shows its own.
    op.create_index("ix_approval_requests_state_created", "approval_requests", ["state", "created_at"])
    op.create_index("ix_approval_requests_run", "approval_requests", ["run_id"])


def downgrade():
    op.drop_index("ix_approval_requests_run", table_name="approval_requests")
    op.drop_index("ix_approval_requests_state_created", table_name="approval_requests")
    op.drop_table("approval_requests")
