"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

Review before merging (nox -s migrations checks the last two for you):
- Alembic moves no data. Dropped or renamed columns/tables: move their data here, or declare the loss below.
- A renamed column is `op.alter_column(..., new_column_name=...)`, never drop + add.
- A new NOT NULL column on an existing table needs a server_default or a backfill before the constraint.
- Enum label changes are invisible to autogenerate: write them with alembic_enums.EnumMigration.
- downgrade() must restore the schema AND the data that upgrade() changed.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision: str = ${repr(up_revision)}
down_revision: Union[str, Sequence[str], None] = ${repr(down_revision)}
branch_labels: Union[str, Sequence[str], None] = ${repr(branch_labels)}
depends_on: Union[str, Sequence[str], None] = ${repr(depends_on)}

# Data this revision loses on purpose, e.g. {"upgrade": ["table.column"], "downgrade": ["table"]}.
data_loss: dict = {}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
