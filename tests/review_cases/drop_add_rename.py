from alembic import op
import sqlalchemy as sa

revision = "r_rename"
down_revision = None

data_loss: dict = {"upgrade": ["users.fullname"], "downgrade": ["users.display_name"]}


def upgrade() -> None:
    op.add_column("users", sa.Column("display_name", sa.Text(), nullable=True))
    op.drop_column("users", "fullname")


def downgrade() -> None:
    op.add_column("users", sa.Column("fullname", sa.Text(), nullable=True))
    op.drop_column("users", "display_name")
