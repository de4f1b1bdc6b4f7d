"""Plan actions: every Run, Dry-run and Apply of a plan step, and every refusal, with its outcome.

Revision ID: 0005_plan_actions
Revises: 0004_change_grants
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_plan_actions"
down_revision = "0004_change_grants"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "plan_actions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("plan_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("step_text", sa.Text(), nullable=False),
        sa.Column("manifest_sha256", sa.String(64)),
        sa.Column("verb", sa.String(32)),
        sa.Column("namespace", sa.String(63)),
        sa.Column("kind", sa.String(63)),
        sa.Column("name", sa.String(253)),
        sa.Column("resource_versions", sa.String(2000)),
        sa.Column("identity", sa.String(300)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("exit_code", sa.Integer()),
        sa.Column("duration_ms", sa.Integer()),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    # A run's history, oldest first; an Apply's search for its dry-run (run, user, newest).
    op.create_index("ix_plan_actions_run_created", "plan_actions", ["run_id", "created_at"])
    op.create_index("ix_plan_actions_user_created", "plan_actions", ["user_id", "created_at"])


def downgrade():
    op.drop_index("ix_plan_actions_user_created", table_name="plan_actions")
    op.drop_index("ix_plan_actions_run_created", table_name="plan_actions")
    op.drop_table("plan_actions")
