from alembic import op
import sqlalchemy as sa

revision = "r_repair"
down_revision = "r_before"


def upgrade() -> None:
    # A repair: rebuild an index left INVALID by an interrupted CREATE INDEX CONCURRENTLY, refresh statistics.
    with op.get_context().autocommit_block():
        op.execute("REINDEX INDEX CONCURRENTLY ix_flow_run_state")
    op.execute(sa.text("ANALYZE flow_run; VACUUM (ANALYZE) task_run"))


def downgrade() -> None:
    """The index belongs to an earlier revision; nothing here to undo."""
