from alembic import op
import sqlalchemy as sa

revision = "r_reverses"
down_revision = None


def upgrade() -> None:
    op.create_index("ix_users_name", "users", ["name"])


def downgrade() -> None:
    op.drop_index("ix_users_name", table_name="users")
