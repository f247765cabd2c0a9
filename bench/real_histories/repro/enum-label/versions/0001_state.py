import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.create_table("run", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("state", sa.Enum("PENDING", "DONE", name="state_type")))


def downgrade():
    op.drop_table("run")
    sa.Enum(name="state_type").drop(op.get_bind())
