from alembic import op
import sqlalchemy as sa

revision = "r_empty"
down_revision = None


def upgrade() -> None:
    op.create_index("ix_users_name", "users", ["name"])


def downgrade() -> None:
    """Nothing to undo."""
    pass
