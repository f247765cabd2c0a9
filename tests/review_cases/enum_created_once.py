from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "r_enum_clean"
down_revision = None

data_loss: dict = {"downgrade": ["tickets"]}
ticket_status = postgresql.ENUM("open", "closed", name="ticket_status", create_type=False)


def upgrade() -> None:
    op.execute("CREATE TYPE ticket_status AS ENUM ('open', 'closed')")
    op.create_table(
        "tickets",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("status", ticket_status, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tickets")
    op.execute("DROP TYPE ticket_status")
