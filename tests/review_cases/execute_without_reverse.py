from alembic import op
import sqlalchemy as sa

revision = "r_exec"
down_revision = None

data_loss: dict = {"downgrade": ["users.active"]}


def upgrade() -> None:
    op.add_column("users", sa.Column("active", sa.Boolean(), nullable=True))
    op.execute("UPDATE users SET active = true")


def downgrade() -> None:
    op.drop_column("users", "active")
