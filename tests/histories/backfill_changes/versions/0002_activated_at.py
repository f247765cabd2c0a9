"""Users get an activation time, backfilled for existing users: PLANTED DEFECT, at random, so a second upgrade
writes different values than the first (the clock would be forgiven: a backfill with now() is no loss).

Revision ID: 0002_activated_at
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_activated_at"
down_revision = "0001_teams_users"


def upgrade() -> None:
    op.add_column("users", sa.Column("activated_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE users SET activated_at = now() - interval '1 day' - random() * interval '365 days'")
    op.alter_column("users", "activated_at", nullable=False)


def downgrade() -> None:
    op.drop_column("users", "activated_at")
