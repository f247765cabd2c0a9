"""A user's note moves into a table of its own; the downgrade carries every note back, those written by the new
version included (what a good downgrade does).

Revision ID: 0005_notes
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_notes"
down_revision = "0004_wider_types"


def upgrade() -> None:
    op.create_table("notes", sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
                    sa.Column("body", sa.Text, nullable=False))
    op.execute("INSERT INTO notes (user_id, body) SELECT id, note FROM users WHERE note IS NOT NULL")
    op.drop_column("users", "note")


def downgrade() -> None:
    op.add_column("users", sa.Column("note", sa.Text))
    op.execute("UPDATE users SET note = notes.body FROM notes WHERE notes.user_id = users.id")
    op.drop_table("notes")
