from alembic import op
import sqlalchemy as sa

revision = "r_drop_declared"
down_revision = None

data_loss: dict = {"upgrade": ["users.nickname"], "downgrade": ["audit"]}


def upgrade() -> None:
    op.drop_column("users", "nickname")
    op.create_table("audit", sa.Column("id", sa.BigInteger(), primary_key=True))


def downgrade() -> None:
    op.drop_table("audit")
    op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))
