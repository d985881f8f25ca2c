"""revised-date requests: the pending request a lead's update makes, until an admin decides it

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# As in 0002: batch mode without reflecting the tables foreign keys point at (the expression index
# on reports would only warn).
NO_FK_REFLECTION = {"resolve_fks": False}


def upgrade() -> None:
    with op.batch_alter_table("items", reflect_kwargs=NO_FK_REFLECTION) as batch:
        batch.add_column(sa.Column("requested_due_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("requested_due_update_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_items_requested_due_update_id_updates"),
            "updates",
            ["requested_due_update_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("items", reflect_kwargs=NO_FK_REFLECTION) as batch:
        batch.drop_constraint("fk_items_requested_due_update_id_updates", type_="foreignkey")
        batch.drop_column("requested_due_update_id")
        batch.drop_column("requested_due_on")
