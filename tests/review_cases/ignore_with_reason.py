from alembic import op
import sqlalchemy as sa

revision = "r_ignore"
down_revision = None


def upgrade() -> None:
    op.create_index("ix_users_name", "users", ["name"])


# review: ignore empty-downgrade -- the index is harmless and dropping it would slow the old release
def downgrade() -> None:
    pass
