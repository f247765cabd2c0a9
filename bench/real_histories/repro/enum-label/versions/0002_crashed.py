"""As prefect's 0cf7311d6ea6: PostgreSQL cannot drop an enum label, so the downgrade leaves it (no data is lost)."""
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    op.execute("ALTER TYPE state_type ADD VALUE IF NOT EXISTS 'CRASHED'")


def downgrade():
    pass  # removing a label means recreating the type and every column using it
