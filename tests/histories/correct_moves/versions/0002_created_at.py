"""Users get a creation time (the time of the migration for existing users), an update time and a note; teams a
budget.

Revision ID: 0002_created_at
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_created_at"
down_revision = "0001_teams_users"


def upgrade() -> None:
    op.add_column("users", sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                                     nullable=False))
    op.add_column("users", sa.Column("updated_at", sa.DateTime))
    op.add_column("users", sa.Column("note", sa.Text))
    op.add_column("teams", sa.Column("budget", sa.Numeric(7, 2)))


def downgrade() -> None:
    op.drop_column("teams", "budget")
    op.drop_column("users", "note")
    op.drop_column("users", "updated_at")
    op.drop_column("users", "created_at")
