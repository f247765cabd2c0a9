"""A correct revision: existing rows get the time of the upgrade, so a second upgrade gives them another time."""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    op.add_column("item", sa.Column("created", sa.TIMESTAMP, nullable=False, server_default=sa.func.now()))


def downgrade():
    op.drop_column("item", "created")
