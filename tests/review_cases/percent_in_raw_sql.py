from alembic import op
import sqlalchemy as sa

revision = "r_percent"
down_revision = None


def upgrade() -> None:
    op.get_bind().exec_driver_sql("UPDATE users SET name = 'x' WHERE name LIKE 'tmp%'")


def downgrade() -> None:
    op.execute("UPDATE users SET name = name")
