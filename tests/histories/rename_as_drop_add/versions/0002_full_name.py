"""users.name becomes users.full_name: PLANTED DEFECT, the rename is written as drop + add, the names are lost.

Revision ID: 0002_full_name
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_full_name"
down_revision = "0001_teams_users"


def upgrade() -> None:
    op.drop_column("users", "name")
    op.add_column("users", sa.Column("full_name", sa.Text))


def downgrade() -> None:
    op.drop_column("users", "full_name")
    op.add_column("users", sa.Column("name", sa.Text))
