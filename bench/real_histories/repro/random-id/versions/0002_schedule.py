"""As prefect's 8cf4d4933848: a correct backfill into a new table whose ids the server draws (gen_random_uuid)."""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"


def upgrade():
    op.create_table("schedule",
                    sa.Column("id", postgresql.UUID, server_default=sa.text("gen_random_uuid()"), primary_key=True),
                    sa.Column("item_id", sa.Integer, sa.ForeignKey("item.id", ondelete="CASCADE"), nullable=False))
    op.execute("INSERT INTO schedule (item_id) SELECT id FROM item")


def downgrade():
    op.drop_table("schedule")
