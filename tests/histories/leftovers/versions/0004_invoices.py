"""Invoices numbered from a sequence: PLANTED DEFECT, the downgrade leaves the sequence behind.

Revision ID: 0004_invoices
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_invoices"
down_revision = "0003_plans"


def upgrade() -> None:
    op.execute("CREATE SEQUENCE invoice_number_seq START 1000")
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("subscription_id", sa.Integer, sa.ForeignKey("subscriptions.id"), nullable=False),
        sa.Column("number", sa.BigInteger, nullable=False, server_default=sa.text("nextval('invoice_number_seq')")),
    )


def downgrade() -> None:
    op.drop_table("invoices")
