"""Subscriptions with a plan: PLANTED DEFECT, the downgrade leaves the enum type behind.

Revision ID: 0003_plans
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_plans"
down_revision = "0002_last_login"


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("plan", postgresql.ENUM("free", "pro", "enterprise", name="plan"), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("subscriptions")
