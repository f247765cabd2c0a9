"""Users remember when they last logged in.

Revision ID: 0003_last_login
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_last_login"
down_revision = "0002_full_name"


def upgrade() -> None:
    op.add_column("users", sa.Column("last_login", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("users", "last_login")
