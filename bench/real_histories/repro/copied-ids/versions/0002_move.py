"""A correct copy that keeps each row's id (as prefect's 9e83011d1f2a does): random UUIDs never collide."""
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    op.execute("INSERT INTO limit_v2 (id, name) SELECT id, name FROM limit_v1")


def downgrade():
    op.execute("DELETE FROM limit_v2 WHERE id IN (SELECT id FROM limit_v1)")
