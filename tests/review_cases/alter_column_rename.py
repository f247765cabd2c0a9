from alembic import op
import sqlalchemy as sa

revision = "r_rename_clean"
down_revision = None


def upgrade() -> None:
    op.alter_column("users", "fullname", new_column_name="display_name")


def downgrade() -> None:
    op.alter_column("users", "display_name", new_column_name="fullname")
