from alembic import op
import sqlalchemy as sa

revision = "r_exec_clean"
down_revision = None


def upgrade() -> None:
    op.execute("UPDATE users SET name = lower(name)")


def downgrade() -> None:
    op.get_bind().execute(sa.text("UPDATE users SET name = initcap(name)"))
