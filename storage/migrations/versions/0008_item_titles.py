"""items.title: a few words that tell an item apart, derived from the text of every stored item

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from itertools import groupby

import sqlalchemy as sa
from alembic import op

from domain.titles import MAX_TITLE_LENGTH, item_titles

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("title", sa.String(length=MAX_TITLE_LENGTH), nullable=True))
    # The items already stored get the titles an import gives: derived as `recbot import` derives them.
    items = sa.table(
        "items", sa.column("id"), sa.column("report_id"), sa.column("kind"), sa.column("number"), sa.column("text"),
        sa.column("title"),
    )  # fmt: skip
    reports = sa.table("reports", sa.column("id"), sa.column("title"))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(items.c.id, items.c.report_id, items.c.text, reports.c.title.label("report_title"))
        .join(reports, reports.c.id == items.c.report_id)
        .order_by(items.c.report_id, items.c.kind, items.c.number)
    ).all()
    titled = []
    for _report_id, report_rows in groupby(rows, key=lambda row: row.report_id):
        group = list(report_rows)
        titles = item_titles([(None, row.text) for row in group], topic=group[0].report_title)
        titled += [{"item": row.id, "item_title": title} for row, title in zip(group, titles, strict=True) if title]
    if titled:
        set_title = sa.update(items).where(items.c.id == sa.bindparam("item")).values(title=sa.bindparam("item_title"))
        connection.execute(set_title, titled)


def downgrade() -> None:
    with op.batch_alter_table("items", reflect_kwargs={"resolve_fks": False}) as batch:
        batch.drop_column("title")
