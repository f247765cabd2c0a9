"""Rename the job status label 'running' to 'in_progress'.

PostgreSQL cannot drop an enum label in place, so alembic_enums swaps job_status for a new type and maps
the stored values on the way: running -> in_progress on upgrade, in_progress -> running on downgrade.
Both status columns of models share the type and are migrated together.

Revision ID: 0005_status_in_progress
Revises: 0004_catalog_job_messages
Create Date: 2024-04-15 09:00:00
"""
from typing import Sequence, Union

from alembic import op
from alembic_enums import Column, EnumMigration

revision: str = "0005_status_in_progress"
down_revision: Union[str, Sequence[str], None] = "0004_catalog_job_messages"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

data_loss: dict = {}

OLD_LABELS = ["not_started", "starting", "running", "stopped", "complete", "failed"]
NEW_LABELS = ["not_started", "starting", "in_progress", "stopped", "complete", "failed"]
STATUS_COLUMNS = [
    Column("models", "train_status", old_server_default="not_started", new_server_default="not_started"),
    Column("models", "deploy_status", old_server_default="not_started", new_server_default="not_started"),
]

_OWNER = "05000000-0000-4000-8000-000000000001"
_AT_OWNER = "05000000-0000-4000-8000-000000000002"
fixtures = {
    "before": {
        "users": [{"id": _OWNER, "username": "fixture-0005-owner"}],
        "models": [
            {"id": "05000000-0000-4000-8000-000000000011", "name": "training-now", "type": "ndb",
             "train_status": "running", "deploy_status": "not_started", "user_id": _OWNER},
            {"id": "05000000-0000-4000-8000-000000000012", "name": "deployed-now", "type": "udt",
             "train_status": "complete", "deploy_status": "running", "user_id": _OWNER},
        ],
    },
    "at": {
        "users": [{"id": _AT_OWNER, "username": "fixture-0005-at-owner"}],
        "models": [
            {"id": "05000000-0000-4000-8000-000000000021", "name": "in-progress-both", "type": "ndb",
             "train_status": "in_progress", "deploy_status": "in_progress", "user_id": _AT_OWNER},
        ],
    },
}


def status_migration() -> EnumMigration:
    return EnumMigration(op, "job_status", OLD_LABELS, NEW_LABELS, STATUS_COLUMNS)


# squawk: ignore changing-column-type -- alembic-enums swaps the enum type; models holds thousands of rows, the rewrite stays well inside lock_timeout
# squawk: ignore ban-drop-default -- EnumMigration drops the status defaults only while the type is swapped and sets them again
# squawk: ignore ban-drop-type -- the old job_status type is replaced by the new one of the same name; no data lives in a type


def upgrade() -> None:
    migration = status_migration()
    with migration.upgrade_ctx():
        for column in STATUS_COLUMNS:
            migration.update_value(column, "running", "in_progress")


def downgrade() -> None:
    migration = status_migration()
    with migration.downgrade_ctx():
        for column in STATUS_COLUMNS:
            migration.update_value(column, "in_progress", "running")
