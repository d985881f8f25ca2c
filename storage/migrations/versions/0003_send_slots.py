"""send slots: one Teams send rate per tenant, shared by every instance

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_slots",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("next_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_send_slots")),
    )


def downgrade() -> None:
    op.drop_table("send_slots")
