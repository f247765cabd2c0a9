"""Users get an is_admin flag, false for everyone so far.

Revision ID: 0003_is_admin
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_is_admin"
down_revision = "0002_full_name"


def upgrade() -> None:
    op.add_column("users", sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("users", "is_admin")
