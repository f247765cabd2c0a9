from alembic import op
import sqlalchemy as sa

revision = "r_percent_clean"
down_revision = None


def upgrade() -> None:
    op.get_bind().exec_driver_sql("UPDATE users SET name = 'x' WHERE name LIKE 'tmp%%'")
    op.execute("UPDATE users SET name = 'y' WHERE name LIKE 'old%'")
    op.execute(sa.text("UPDATE users SET name = 'z' WHERE name LIKE 'new%'"))


def downgrade() -> None:
    op.execute("UPDATE users SET name = name")
