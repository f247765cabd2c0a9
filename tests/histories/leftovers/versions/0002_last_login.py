"""Users remember their last login, listed newest first: PLANTED DEFECT, the downgrade leaves the index behind.

Revision ID: 0002_last_login
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_last_login"
down_revision = "0001_users"


def upgrade() -> None:
    op.add_column("users", sa.Column("last_login", sa.DateTime(timezone=True)))
    op.create_index("ix_users_created_at", "users", ["created_at"])


def downgrade() -> None:
    op.drop_column("users", "last_login")
