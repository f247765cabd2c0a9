"""Autogenerate's unnamed foreign key: the downgrade cannot be rendered (a real defect, which the tool must report,
not crash on)."""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.create_table("owner", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table("item", sa.Column("id", sa.Integer, primary_key=True), sa.Column("owner_id", sa.Integer))
    op.create_foreign_key(None, "item", "owner", ["owner_id"], ["id"])


def downgrade():
    op.drop_constraint(None, "item", type_="foreignkey")
    op.drop_table("item")
    op.drop_table("owner")
