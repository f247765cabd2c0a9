"""Projects can be archived.

Revision ID: 0004_project_archived
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_project_archived"
down_revision = "0003_team_budget"


def upgrade() -> None:
    op.add_column("projects", sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("projects", "archived")
