"""Users.

Revision ID: 0001_users
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_users"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
    )


def downgrade() -> None:
    op.drop_table("users")
