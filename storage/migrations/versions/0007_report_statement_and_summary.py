"""reports: the commissioner's statement, the report summary and the recommendations' scope

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reports", sa.Column("summary", sa.Text(), nullable=True))
    op.add_column("reports", sa.Column("commissioner_statement", sa.Text(), nullable=True))
    op.add_column("reports", sa.Column("scope", sa.String(length=60), nullable=True))
    op.add_column("reports", sa.Column("force_specific", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reports", reflect_kwargs={"resolve_fks": False}) as batch:
        for column in ("force_specific", "scope", "commissioner_statement", "summary"):
            batch.drop_column(column)
