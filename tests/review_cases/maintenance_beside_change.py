from alembic import op
import sqlalchemy as sa

revision = "r_maintenance_and_more"
down_revision = "r_before"


def upgrade() -> None:
    op.execute("REINDEX TABLE flow_run; CREATE INDEX ix_flow_run_name ON flow_run (name)")


def downgrade() -> None:
    pass
