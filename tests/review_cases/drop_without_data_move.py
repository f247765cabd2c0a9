from alembic import op
import sqlalchemy as sa

revision = "r_drop"
down_revision = None


def upgrade() -> None:
    op.drop_column("users", "nickname")
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_column("note")


def downgrade() -> None:
    op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))
    op.add_column("orders", sa.Column("note", sa.Text(), nullable=True))
