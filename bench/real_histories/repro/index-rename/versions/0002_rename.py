"""As prefect's 7737221bf8a4: an index renamed in raw SQL that names no table."""
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    op.execute("ALTER INDEX ix_item_tag RENAME TO uq_item_tag")


def downgrade():
    op.execute("ALTER INDEX uq_item_tag RENAME TO ix_item_tag")
