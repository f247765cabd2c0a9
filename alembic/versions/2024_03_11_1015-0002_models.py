"""Models with their training/deployment status, access rules and metadata.

A model has a free-text `description` column here; 0006 moves it into model_attributes.
The job status still calls a running job 'running'; 0005 renames that label to 'in_progress'.

Revision ID: 0002_models
Revises: 0001_teams_users
Create Date: 2024-03-11 10:15:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_models"
down_revision: Union[str, Sequence[str], None] = "0001_teams_users"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

data_loss: dict = {"downgrade": ["models", "metadata"]}

JOB_STATUS = postgresql.ENUM(
    "not_started", "starting", "running", "stopped", "complete", "failed", name="job_status"
)
ACCESS_LEVEL = postgresql.ENUM("private", "protected", "public", name="access_level")
PERMISSION = postgresql.ENUM("read", "write", name="permission")


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("type", sa.String(256), nullable=False),
        sa.Column("sub_type", sa.String(256), nullable=True),
        sa.Column("train_status", JOB_STATUS, server_default="not_started", nullable=False),
        sa.Column("deploy_status", JOB_STATUS, server_default="not_started", nullable=False),
        sa.Column("access_level", ACCESS_LEVEL, server_default="private", nullable=False),
        sa.Column("default_permission", PERMISSION, server_default="read", nullable=False),
        sa.Column("domain", sa.String(), nullable=True),
        sa.Column("published_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("options", postgresql.JSONB(), nullable=True),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_models"),
        sa.ForeignKeyConstraint(["parent_id"], ["models.id"], name="fk_models_parent_id_models", ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_models_user_id_users", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_models_team_id_teams", ondelete="SET NULL"),
    )
    op.create_index("ix_models_parent_id", "models", ["parent_id"])
    op.create_index("ix_models_team_id", "models", ["team_id"])
    op.create_table(
        "metadata",
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column("general", postgresql.JSONB(), nullable=True),
        sa.Column("train", postgresql.JSONB(), nullable=True),
        sa.PrimaryKeyConstraint("model_id", name="pk_metadata"),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], name="fk_metadata_model_id_models", ondelete="CASCADE"),
    )


def downgrade() -> None:
    op.drop_table("metadata")
    op.drop_index("ix_models_team_id", table_name="models")
    op.drop_index("ix_models_parent_id", table_name="models")
    op.drop_table("models")
    op.execute("DROP TYPE permission")
    op.execute("DROP TYPE access_level")
    op.execute("DROP TYPE job_status")
