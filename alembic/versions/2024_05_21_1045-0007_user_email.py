"""Every user gets a unique email address.

Existing users have none, so the column is added nullable, backfilled with '<username>@users.invalid'
(the .invalid top-level domain never receives mail, and usernames are unique, so the addresses are too),
and only then made NOT NULL and unique. The application asks those users for their real address.

Revision ID: 0007_user_email
Revises: 0006_model_attributes
Create Date: 2024-05-21 10:45:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007_user_email"
down_revision: Union[str, Sequence[str], None] = "0006_model_attributes"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The addresses users entered after this revision have no place before it.
data_loss: dict = {"downgrade": ["users.email"]}

fixtures = {
    "before": {
        "users": [
            {"id": "07000000-0000-4000-8000-000000000001", "username": "fixture-0007-zoë-東京"},
            {"id": "07000000-0000-4000-8000-000000000002", "username": "fixture-0007-" + "x" * 37},
        ],
    },
}


# squawk: ignore adding-not-nullable-field -- every row was backfilled in this revision before SET NOT NULL; users is a small table
# squawk: ignore constraint-missing-not-valid -- a UNIQUE constraint has no NOT VALID form; users is small enough to build the index under lock
# squawk: ignore disallowed-unique-constraint -- users is small (one row per person): building the index under lock takes milliseconds


def upgrade() -> None:
    op.add_column("users", sa.Column("email", sa.String(254), nullable=True))
    op.execute(sa.text("UPDATE users SET email = username || '@users.invalid'"))
    op.alter_column("users", "email", existing_type=sa.String(254), nullable=False)
    op.create_unique_constraint("uq_users_email", "users", ["email"])


# review: ignore execute-without-reverse -- the backfill only fills the column that downgrade drops
def downgrade() -> None:
    op.drop_constraint("uq_users_email", "users", type_="unique")
    op.drop_column("users", "email")
