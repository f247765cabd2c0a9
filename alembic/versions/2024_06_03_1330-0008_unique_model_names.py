"""A user's model names become unique; models are looked up by train_status through an index.

Older data may hold several models of one user with the same name. The oldest keeps its name; each of the
others gets the suffix '-dup-<its own id>', which is unique and which downgrade strips to restore the name.
A model whose name already ends with its own suffix gets a second one, so downgrade never strips a suffix
the upgrade did not add: the round trip gives back every name exactly.

Revision ID: 0008_unique_model_names
Revises: 0007_user_email
Create Date: 2024-06-03 13:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0008_unique_model_names"
down_revision: Union[str, Sequence[str], None] = "0007_user_email"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

data_loss: dict = {}

SUFFIX = "('-dup-' || models.id::text)"
ENDS_WITH_SUFFIX = f"right(models.name, length({SUFFIX})) = {SUFFIX}"

_OWNER = "08000000-0000-4000-8000-000000000001"
_OTHER_OWNER = "08000000-0000-4000-8000-000000000002"
_ESCAPED = "08000000-0000-4000-8000-000000000015"
fixtures = {
    "before": {
        "users": [
            {"id": _OWNER, "username": "fixture-0008-owner", "email": "owner@example.com"},
            {"id": _OTHER_OWNER, "username": "fixture-0008-other", "email": "other@example.com"},
        ],
        "models": [
            {"id": "08000000-0000-4000-8000-000000000011", "name": "twin", "type": "ndb", "user_id": _OWNER,
             "created_at": "2024-01-01T00:00:00+00:00"},
            {"id": "08000000-0000-4000-8000-000000000012", "name": "twin", "type": "ndb", "user_id": _OWNER,
             "created_at": "2024-01-02T00:00:00+00:00"},
            {"id": "08000000-0000-4000-8000-000000000013", "name": "twin", "type": "udt", "user_id": _OWNER,
             "created_at": "2024-01-02T00:00:00+00:00"},
            {"id": "08000000-0000-4000-8000-000000000014", "name": "twin", "type": "ndb", "user_id": _OTHER_OWNER,
             "created_at": "2024-01-01T00:00:00+00:00"},
            {"id": _ESCAPED, "name": "looks-renamed-dup-" + _ESCAPED, "type": "ndb", "user_id": _OWNER,
             "created_at": "2024-01-01T00:00:00+00:00"},
        ],
    },
}


# squawk: ignore constraint-missing-not-valid -- a UNIQUE constraint has no NOT VALID form; the duplicates are renamed just before
# squawk: ignore disallowed-unique-constraint -- models holds thousands of rows: the unique index builds in well under lock_timeout
# squawk: ignore require-concurrent-index-creation -- CONCURRENTLY cannot run inside the revision's transaction; models is small


def upgrade() -> None:
    op.execute(
        sa.text(
            f"UPDATE models SET name = models.name || {SUFFIX} "
            "FROM (SELECT id, row_number() OVER (PARTITION BY user_id, name ORDER BY created_at, id) AS position "
            "FROM models) AS ranked "
            f"WHERE ranked.id = models.id AND (ranked.position > 1 OR {ENDS_WITH_SUFFIX})"
        )
    )
    op.create_unique_constraint("uq_models_user_id_name", "models", ["user_id", "name"])
    op.create_index("ix_models_train_status", "models", ["train_status"])


def downgrade() -> None:
    op.drop_index("ix_models_train_status", table_name="models")
    op.drop_constraint("uq_models_user_id_name", "models", type_="unique")
    op.execute(
        sa.text(
            f"UPDATE models SET name = left(models.name, length(models.name) - length({SUFFIX})) "
            f"WHERE {ENDS_WITH_SUFFIX}"
        )
    )
