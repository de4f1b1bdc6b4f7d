"""Change grants: the kinds of a grant the user may also change.

Revision ID: 0004_change_grants
Revises: 0003_hardening
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_change_grants"
down_revision = "0003_hardening"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("grants") as batch:
        # Comma-separated kind names (app.kinds), a subset of kinds_csv; existing grants stay view-only.
        batch.add_column(sa.Column("change_kinds_csv", sa.String(400), nullable=False,
                                   server_default=""))


def downgrade():
    with op.batch_alter_table("grants") as batch:
        batch.drop_column("change_kinds_csv")
