from alembic import op
import sqlalchemy as sa

revision = "r_placeholder"
down_revision = "r_before"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
