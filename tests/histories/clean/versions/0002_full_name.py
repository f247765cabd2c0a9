"""users.name becomes users.full_name, renamed in place.

Revision ID: 0002_full_name
"""
from alembic import op

revision = "0002_full_name"
down_revision = "0001_teams_users"


def upgrade() -> None:
    op.alter_column("users", "name", new_column_name="full_name")


def downgrade() -> None:
    op.alter_column("users", "full_name", new_column_name="name")
