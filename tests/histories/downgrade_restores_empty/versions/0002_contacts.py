"""Phone numbers move from users to contacts: PLANTED DEFECT, the downgrade brings users.phone back empty.

Revision ID: 0002_contacts
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_contacts"
down_revision = "0001_users"


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("phone", sa.String(30), nullable=False),
    )
    op.execute("INSERT INTO contacts (user_id, phone) SELECT id, phone FROM users WHERE phone IS NOT NULL")
    op.drop_column("users", "phone")


def downgrade() -> None:
    op.add_column("users", sa.Column("phone", sa.String(30)))
    op.drop_table("contacts")
