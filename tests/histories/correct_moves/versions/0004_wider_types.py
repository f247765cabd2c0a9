"""Budgets get a third decimal; names become JSON strings. Values keep their meaning under the new types; the
downgrade cuts what only the new types can hold, and says so.

Revision ID: 0004_wider_types
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004_wider_types"
down_revision = "0003_nicknames"
data_loss = {"downgrade": ["teams.budget", "users.name"]}


def upgrade() -> None:
    op.alter_column("teams", "budget", type_=sa.Numeric(8, 3), existing_type=sa.Numeric(7, 2))
    op.alter_column("users", "name", type_=JSONB, existing_type=sa.Text, postgresql_using="to_jsonb(name)")


def downgrade() -> None:
    op.alter_column("users", "name", type_=sa.Text, existing_type=JSONB, postgresql_using="name #>> '{}'")
    op.alter_column("teams", "budget", type_=sa.Numeric(7, 2), existing_type=sa.Numeric(8, 3),
                    postgresql_using="trunc(budget, 2)")
