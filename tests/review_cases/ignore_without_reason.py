from alembic import op
import sqlalchemy as sa

revision = "r_ignore_bare"
down_revision = None


def upgrade() -> None:
    op.create_index("ix_users_name", "users", ["name"])


# review: ignore empty-downgrade
def downgrade() -> None:
    pass
