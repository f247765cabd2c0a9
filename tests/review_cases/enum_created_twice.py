from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "r_enum"
down_revision = None

data_loss: dict = {"downgrade": ["tickets"]}


def upgrade() -> None:
    postgresql.ENUM("open", "closed", name="ticket_status").create(op.get_bind())
    op.create_table(
        "tickets",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("status", sa.Enum("open", "closed", name="ticket_status"), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tickets")
    op.execute("DROP TYPE ticket_status")
