"""Teams get a slug (written on one branch).

Revision ID: 0002_team_slug
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_team_slug"
down_revision = "0001_teams_users"


def upgrade() -> None:
    op.add_column("teams", sa.Column("slug", sa.String(100)))


def downgrade() -> None:
    op.drop_column("teams", "slug")
