"""The catalog of model templates and the messages that training/deployment jobs report.

The catalog column of labels is called `labels` here; 0009 renames it to `target_labels`.

Revision ID: 0004_catalog_job_messages
Revises: 0003_model_sharing
Create Date: 2024-04-02 11:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_catalog_job_messages"
down_revision: Union[str, Sequence[str], None] = "0003_model_sharing"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

data_loss: dict = {"downgrade": ["catalog", "job_messages"]}

CATALOG_TASK = postgresql.ENUM("TEXT", "TOKEN", name="catalog_task")
MESSAGE_LEVEL = postgresql.ENUM("warning", "error", name="message_level")


def upgrade() -> None:
    op.create_table(
        "catalog",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("task", CATALOG_TASK, nullable=False),
        sa.Column("num_generated_samples", sa.Integer(), nullable=True),
        sa.Column("labels", postgresql.ARRAY(sa.String()), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_catalog"),
    )
    op.create_table(
        "job_messages",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column("job_type", sa.String(50), nullable=False),
        sa.Column("level", MESSAGE_LEVEL, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_job_messages"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name="fk_job_messages_model_id_models", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_job_messages_model_id", "job_messages", ["model_id"])


def downgrade() -> None:
    op.drop_index("ix_job_messages_model_id", table_name="job_messages")
    op.drop_table("job_messages")
    op.drop_table("catalog")
    op.execute("DROP TYPE message_level")
    op.execute("DROP TYPE catalog_task")
