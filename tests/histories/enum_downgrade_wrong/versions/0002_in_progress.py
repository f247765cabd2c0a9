"""Job status 'running' becomes 'in_progress': PLANTED DEFECT, the downgrade maps in_progress to 'queued'.

Revision ID: 0002_in_progress
"""
from alembic import op
from alembic_enums import Column, EnumMigration

revision = "0002_in_progress"
down_revision = "0001_jobs"

STATUS = Column("jobs", "status", old_server_default="queued", new_server_default="queued")


def status_migration() -> EnumMigration:
    return EnumMigration(op, "job_status", ["queued", "running", "done"], ["queued", "in_progress", "done"], [STATUS])


def upgrade() -> None:
    migration = status_migration()
    with migration.upgrade_ctx():
        migration.update_value(STATUS, "running", "in_progress")


def downgrade() -> None:
    migration = status_migration()
    with migration.downgrade_ctx():
        migration.update_value(STATUS, "in_progress", "queued")
