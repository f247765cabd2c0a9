from alembic import op
import sqlalchemy as sa

revision = "r_created"
down_revision = None


def upgrade() -> None:
    op.create_table("projects", sa.Column("id", sa.Integer, primary_key=True))
    op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))


def downgrade() -> None:
    # only data written at this revision lives here: the walk notes its loss, nothing to declare
    op.drop_column("users", "nickname")
    op.drop_table("projects")
