import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None


def upgrade():
    for table in ("limit_v1", "limit_v2"):
        op.create_table(table, sa.Column("id", postgresql.UUID, primary_key=True), sa.Column("name", sa.Text))


def downgrade():
    op.drop_table("limit_v2")
    op.drop_table("limit_v1")
