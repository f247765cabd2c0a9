"""Subscriptions know when they started.

Revision ID: 0005_subscription_started
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_subscription_started"
down_revision = "0004_invoices"


def upgrade() -> None:
    op.add_column("subscriptions", sa.Column("started_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("subscriptions", "started_at")
