"""Teams get a budget: PLANTED DEFECT, the downgrade raises NotImplementedError.

Revision ID: 0003_team_budget
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_team_budget"
down_revision = "0002_projects"


def upgrade() -> None:
    op.add_column("teams", sa.Column("budget", sa.Numeric(12, 2)))


def downgrade() -> None:
    raise NotImplementedError("no way back from budgets")
