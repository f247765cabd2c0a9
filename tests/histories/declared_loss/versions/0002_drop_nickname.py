"""Nicknames are no longer shown anywhere and are dropped, on purpose (declared in data_loss).

Revision ID: 0002_drop_nickname
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_drop_nickname"
down_revision = "0001_users"

data_loss = {"upgrade": ["users.nickname"]}


def upgrade() -> None:
    op.drop_column("users", "nickname")


def downgrade() -> None:
    op.add_column("users", sa.Column("nickname", sa.String(50)))
