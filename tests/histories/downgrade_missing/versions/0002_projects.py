"""Projects of a team: PLANTED DEFECT, the downgrade is `pass`.

Revision ID: 0002_projects
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_projects"
down_revision = "0001_teams_users"


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    pass
