"""Rename catalog.labels to target_labels: they are the labels a model is trained to predict.

Revision ID: 0009_catalog_target_labels
Revises: 0008_unique_model_names
Create Date: 2024-06-17 11:00:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0009_catalog_target_labels"
down_revision: Union[str, Sequence[str], None] = "0008_unique_model_names"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

data_loss: dict = {}


def upgrade() -> None:
    op.alter_column("catalog", "labels", new_column_name="target_labels")


def downgrade() -> None:
    op.alter_column("catalog", "target_labels", new_column_name="labels")
