from alembic import op
import sqlalchemy as sa

revision = "r_not_impl"
down_revision = None


def upgrade() -> None:
    op.create_index("ix_users_name", "users", ["name"])


def downgrade() -> None:
    raise NotImplementedError("one way only")
