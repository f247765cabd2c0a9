"""Trained models with a name of up to 50 characters.

Revision ID: 0001_models
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_models"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("description", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("models")
