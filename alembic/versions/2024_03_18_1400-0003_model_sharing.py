"""Per-user model permissions and dependencies between models.

Revision ID: 0003_model_sharing
Revises: 0002_models
Create Date: 2024-03-18 14:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_model_sharing"
down_revision: Union[str, Sequence[str], None] = "0002_models"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

data_loss: dict = {"downgrade": ["model_permissions", "model_dependencies"]}

# Created by 0002 for models.default_permission.
PERMISSION = postgresql.ENUM("read", "write", name="permission", create_type=False)


def upgrade() -> None:
    op.create_table(
        "model_permissions",
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("permission", PERMISSION, nullable=False),
        sa.PrimaryKeyConstraint("model_id", "user_id", name="pk_model_permissions"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name="fk_model_permissions_model_id_models", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_model_permissions_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_model_permissions_user_id", "model_permissions", ["user_id"])
    op.create_table(
        "model_dependencies",
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column("dependency_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("model_id", "dependency_id", name="pk_model_dependencies"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name="fk_model_dependencies_model_id_models", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["dependency_id"], ["models.id"], name="fk_model_dependencies_dependency_id_models", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_model_dependencies_dependency_id", "model_dependencies", ["dependency_id"])


def downgrade() -> None:
    op.drop_index("ix_model_dependencies_dependency_id", table_name="model_dependencies")
    op.drop_table("model_dependencies")
    op.drop_index("ix_model_permissions_user_id", table_name="model_permissions")
    op.drop_table("model_permissions")
