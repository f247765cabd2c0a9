"""Teams and their users.

Revision ID: 0001_teams_users
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_teams_users"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
        sa.Column("name", sa.Text),
        sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="SET NULL")),
    )


def downgrade() -> None:
    op.drop_table("users")
    op.drop_table("teams")
