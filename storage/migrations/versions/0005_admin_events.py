"""admin events: who gave or took admin rights, and when

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["people.id"], name=op.f("fk_admin_events_actor_id_people")),
        sa.ForeignKeyConstraint(["subject_id"], ["people.id"], name=op.f("fk_admin_events_subject_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_events")),
    )


def downgrade() -> None:
    op.drop_table("admin_events")
