"""Users get a password hash.

Revision ID: 0002_password_hash
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_password_hash"
down_revision = "0001_teams_users"


def upgrade() -> None:
    op.add_column("users", sa.Column("password_hash", sa.Text))


def downgrade() -> None:
    op.drop_column("users", "password_hash")
