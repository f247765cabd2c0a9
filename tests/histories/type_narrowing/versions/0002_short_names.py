"""Model names become at most 10 characters: PLANTED DEFECT, longer names are cut.

Revision ID: 0002_short_names
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_short_names"
down_revision = "0001_models"


def upgrade() -> None:
    op.alter_column("models", "name", type_=sa.String(10), existing_nullable=False, postgresql_using="left(name, 10)")


def downgrade() -> None:
    op.alter_column("models", "name", type_=sa.String(50), existing_nullable=False)
