"""Hardening: a per-user session version, the kinds a plan's context read, a plan-slot lock.

Revision ID: 0003_hardening
Revises: 0002_plan_runs
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_hardening"
down_revision = "0002_plan_runs"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        # Bumped on sign-out, disable and password change: older sessions stop working.
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False,
                                   server_default="0"))
        # Updated (row-locked) while a plan slot is reserved: serializes a user's Generates.
        batch.add_column(sa.Column("plan_slot_lock", sa.Integer(), nullable=False,
                                   server_default="0"))
    with op.batch_alter_table("plan_runs") as batch:
        # Comma-separated kind names (app.kinds) the run's context was read from.
        batch.add_column(sa.Column("context_kinds", sa.String(400), nullable=False,
                                   server_default=""))
    # Runs made before this revision do not say what their context read: treat them as having
    # read every kind (as of this revision), so only the owner and administrators read them.
    op.execute("UPDATE plan_runs SET context_kinds = 'configmaps,cronjobs,daemonsets,deployments,"
               "events,ingresses,jobs,persistentvolumeclaims,pods,replicasets,secrets,services,"
               "statefulsets' WHERE context_kinds = ''")


def downgrade():
    with op.batch_alter_table("plan_runs") as batch:
        batch.drop_column("context_kinds")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("plan_slot_lock")
        batch.drop_column("session_version")
