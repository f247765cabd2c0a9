"""Models with a deploy status: PLANTED DEFECT, the enum type is created explicitly and again by create_table.

Revision ID: 0002_models
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_models"
down_revision = "0001_teams_users"

DEPLOY_STATUS = postgresql.ENUM("stopped", "starting", "running", name="deploy_status")


def upgrade() -> None:
    DEPLOY_STATUS.create(op.get_bind())
    op.create_table(
        "models",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("deploy_status", DEPLOY_STATUS, nullable=False, server_default="stopped"),
    )


def downgrade() -> None:
    op.drop_table("models")
    DEPLOY_STATUS.drop(op.get_bind())
