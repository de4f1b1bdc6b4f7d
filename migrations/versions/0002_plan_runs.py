"""Plan runs: every generated plan with its prompt, output, tokens, timings and status.

Revision ID: 0002_plan_runs
Revises: 0001_foundation
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_plan_runs"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "plan_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("result_name", sa.String(253), nullable=False),
        sa.Column("finding_kind", sa.String(63), nullable=False),
        sa.Column("finding_namespace", sa.String(63), nullable=False),
        sa.Column("finding_name", sa.String(253), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("user_context", sa.Text(), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("prompt_text", sa.Text(), nullable=False),
        sa.Column("prompt_messages", sa.Text(), nullable=False),
        sa.Column("output_text", sa.Text(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("stream_opened_at", sa.DateTime(), nullable=True),
        sa.Column("first_token_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stop_requested", sa.Boolean(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
    )
    op.create_index("ix_plan_runs_status", "plan_runs", ["status"])
    op.create_index("ix_plan_runs_finding", "plan_runs",
                    ["finding_namespace", "finding_kind", "finding_name"])
    op.create_index("ix_plan_runs_user_created", "plan_runs", ["user_id", "created_at"])


def downgrade():
    op.drop_index("ix_plan_runs_user_created", table_name="plan_runs")
    op.drop_index("ix_plan_runs_finding", table_name="plan_runs")
    op.drop_index("ix_plan_runs_status", table_name="plan_runs")
    op.drop_table("plan_runs")
