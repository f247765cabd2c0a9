import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.create_table("item", sa.Column("id", sa.Integer, primary_key=True), sa.Column("tag", sa.Text))
    op.create_index("ix_item_tag", "item", ["tag"], unique=True)


def downgrade():
    op.drop_table("item")
