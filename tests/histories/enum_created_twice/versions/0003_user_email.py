"""Users get an email address.

Revision ID: 0003_user_email
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_user_email"
down_revision = "0002_models"


def upgrade() -> None:
    op.add_column("users", sa.Column("email", sa.String(200)))


def downgrade() -> None:
    op.drop_column("users", "email")
