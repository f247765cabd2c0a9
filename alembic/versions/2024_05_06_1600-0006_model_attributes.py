"""Key/value attributes per model; the models.description column becomes the attribute 'description'.

Upgrade copies every non-NULL description (empty strings included) into a model_attributes row and drops
the column. Downgrade copies the 'description' attributes back; a model without one gets NULL, as before.

Revision ID: 0006_model_attributes
Revises: 0005_status_in_progress
Create Date: 2024-05-06 16:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0006_model_attributes"
down_revision: Union[str, Sequence[str], None] = "0005_status_in_progress"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Attributes other than 'description' have no column to go back to.
data_loss: dict = {"downgrade": ["model_attributes"]}

_OWNER = "06000000-0000-4000-8000-000000000001"
_AT_OWNER = "06000000-0000-4000-8000-000000000002"
fixtures = {
    "before": {
        "users": [{"id": _OWNER, "username": "fixture-0006-owner"}],
        "models": [
            {"id": "06000000-0000-4000-8000-000000000011", "name": "no-description", "type": "ndb",
             "user_id": _OWNER, "description": None},
            {"id": "06000000-0000-4000-8000-000000000012", "name": "empty-description", "type": "ndb",
             "user_id": _OWNER, "description": ""},
            {"id": "06000000-0000-4000-8000-000000000013", "name": "unicode-description", "type": "udt",
             "user_id": _OWNER, "description": "Zoë's 東京 model ✓\nsecond line, 100% 'quoted' \"text\""},
            {"id": "06000000-0000-4000-8000-000000000014", "name": "long-description", "type": "udt",
             "user_id": _OWNER, "description": "long " * 2000},
        ],
    },
    "at": {
        "users": [{"id": _AT_OWNER, "username": "fixture-0006-at-owner"}],
        "models": [
            {"id": "06000000-0000-4000-8000-000000000021", "name": "described-later", "type": "ndb",
             "user_id": _AT_OWNER},
        ],
        "model_attributes": [
            {"model_id": "06000000-0000-4000-8000-000000000021", "key": "description", "value": "Ünïcode ✓"},
        ],
    },
}


# squawk: ignore ban-drop-column -- models.description is copied into model_attributes first; the downgrade copies it back


def upgrade() -> None:
    op.create_table(
        "model_attributes",
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("model_id", "key", name="pk_model_attributes"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name="fk_model_attributes_model_id_models", ondelete="CASCADE"
        ),
    )
    op.execute(
        sa.text(
            "INSERT INTO model_attributes (model_id, key, value) "
            "SELECT id, 'description', description FROM models WHERE description IS NOT NULL"
        )
    )
    op.drop_column("models", "description")


def downgrade() -> None:
    op.add_column("models", sa.Column("description", sa.Text(), nullable=True))
    op.execute(
        sa.text(
            "UPDATE models SET description = attribute.value FROM model_attributes AS attribute "
            "WHERE attribute.model_id = models.id AND attribute.key = 'description'"
        )
    )
    op.drop_table("model_attributes")
