"""As prefect's 22b7cb02e593: a revision whose SQL cannot be rendered offline, so it is checked on every table."""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade():
    op.create_table("note", sa.Column("id", sa.Integer, primary_key=True))
    count = op.get_bind().execute(sa.text("SELECT count(*) FROM item")).scalar()
    print(f"{count} items")


def downgrade():
    op.drop_table("note")
