from alembic import op
import sqlalchemy as sa

revision = "r_drop_copy"
down_revision = None


def upgrade() -> None:
    op.add_column("profiles", sa.Column("nickname", sa.Text(), nullable=True))
    op.execute("UPDATE profiles SET nickname = users.nickname FROM users WHERE users.id = profiles.user_id")
    op.drop_column("users", "nickname")


def downgrade() -> None:
    op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))
    op.execute("UPDATE users SET nickname = profiles.nickname FROM profiles WHERE users.id = profiles.user_id")
    op.drop_column("profiles", "nickname")
