"""A correct data migration that reads what its UPDATE did: fine online, but offline op.get_bind() executes nothing."""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.create_table("item", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text))
    result = op.get_bind().execute(sa.text("UPDATE item SET name = 'unnamed' WHERE name IS NULL"))
    if result.rowcount > 0:
        print(f"named {result.rowcount} items")


def downgrade():
    op.drop_table("item")
