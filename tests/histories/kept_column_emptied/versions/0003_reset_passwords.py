"""Every password is reset: PLANTED DEFECT, the upgrade empties a column it keeps, and declares only a loss of
the downgrade (which says nothing about the upgrade).

Revision ID: 0003_reset_passwords
"""
from alembic import op

revision = "0003_reset_passwords"
down_revision = "0002_password_hash"
data_loss = {"downgrade": ["users.password_hash"]}


def upgrade() -> None:
    op.execute("UPDATE users SET password_hash = NULL")


def downgrade() -> None:
    pass
