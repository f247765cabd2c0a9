"""Teams, users and team membership with a role.

Revision ID: 0001_teams_users
Revises:
Create Date: 2024-03-04 09:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_teams_users"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Going back to an empty database drops everything these tables hold.
data_loss: dict = {"downgrade": ["teams", "users", "user_teams"]}

TEAM_ROLE = postgresql.ENUM("user", "team_admin", "global_admin", name="team_role")


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_teams"),
        sa.UniqueConstraint("name", name="uq_teams_name"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("username", sa.String(50), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=True),
        sa.Column("is_verified", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "user_teams",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("role", TEAM_ROLE, server_default="user", nullable=False),
        sa.PrimaryKeyConstraint("user_id", "team_id", name="pk_user_teams"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_user_teams_user_id_users", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_user_teams_team_id_teams", ondelete="CASCADE"),
    )
    op.create_index("ix_user_teams_team_id", "user_teams", ["team_id"])


def downgrade() -> None:
    op.drop_index("ix_user_teams_team_id", table_name="user_teams")
    op.drop_table("user_teams")
    op.drop_table("users")
    op.drop_table("teams")
    op.execute("DROP TYPE team_role")
