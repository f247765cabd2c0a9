"""One undeclared loss: a table of three columns dropped."""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    op.drop_table("item")


def downgrade():
    op.create_table("item", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text),
                    sa.Column("price", sa.Numeric(10, 2)))
