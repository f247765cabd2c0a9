"""Users get an email address: PLANTED DEFECT, written on another branch from the same parent (two heads).

Revision ID: 0002_user_email
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_user_email"
down_revision = "0001_teams_users"


def upgrade() -> None:
    op.add_column("users", sa.Column("email", sa.String(200)))


def downgrade() -> None:
    op.drop_column("users", "email")
