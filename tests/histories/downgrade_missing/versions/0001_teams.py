"""Teams.

Revision ID: 0001_teams
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_teams"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
    )


def downgrade() -> None:
    op.drop_table("teams")
