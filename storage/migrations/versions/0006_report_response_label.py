"""reports.response_label: what the document calls the force's answers ("Constabulary response")

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reports", sa.Column("response_label", sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reports", reflect_kwargs={"resolve_fks": False}) as batch:
        batch.drop_column("response_label")
