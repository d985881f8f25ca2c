"""people are (tenant, object id); redelivery is keyed on conversation and activity

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# SQLite's batch mode copies each table; reflecting the tables its foreign keys point at would
# only meet (and warn about) the expression index on reports, which these steps never touch.
NO_FK_REFLECTION = {"resolve_fks": False}


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.add_column(sa.Column("tenant_id", sa.String(length=64), nullable=True))
        batch_op.drop_constraint("uq_people_aad_object_id", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_people_tenant_id_aad_object_id"), ["tenant_id", "aad_object_id"]
        )
    # A person's tenant is known from their personal chat, when the bot has one with them.
    op.execute(
        "UPDATE people SET tenant_id = (SELECT MIN(conversation_refs.tenant_id) FROM conversation_refs"
        " WHERE conversation_refs.user_id = people.teams_user_id AND conversation_refs.tenant_id IS NOT NULL)"
        " WHERE teams_user_id IS NOT NULL"
    )
    # Old keys hold the activity id alone; they stay unique, and new ones carry the conversation too.
    for table in ("updates", "item_events"):
        with op.batch_alter_table(table, schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_source_activity_id", type_="unique")
            batch_op.alter_column(
                "source_activity_id",
                new_column_name="source_activity_key",
                existing_type=sa.String(length=200),
                type_=sa.String(length=500),
                existing_nullable=True,
            )
        # A batch of its own: in the batch that renames the column, SQLite's copy would lose it.
        with op.batch_alter_table(table, schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
            batch_op.create_unique_constraint(batch_op.f(f"uq_{table}_source_activity_key"), ["source_activity_key"])


def downgrade() -> None:
    for table in ("updates", "item_events"):
        with op.batch_alter_table(table, schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_source_activity_key", type_="unique")
            batch_op.alter_column(
                "source_activity_key",
                new_column_name="source_activity_id",
                existing_type=sa.String(length=500),
                type_=sa.String(length=200),
                existing_nullable=True,
            )
        with op.batch_alter_table(table, schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
            batch_op.create_unique_constraint(batch_op.f(f"uq_{table}_source_activity_id"), ["source_activity_id"])
    with op.batch_alter_table("people", schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.drop_constraint("uq_people_tenant_id_aad_object_id", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_people_aad_object_id"), ["aad_object_id"])
        batch_op.drop_column("tenant_id")
