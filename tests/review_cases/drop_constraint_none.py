from alembic import op
import sqlalchemy as sa

revision = "r_dcn"
down_revision = None


def upgrade() -> None:
    op.drop_constraint(None, "users", type_="foreignkey")


def downgrade() -> None:
    op.create_foreign_key("users_org_id_fkey", "users", "orgs", ["org_id"], ["id"])
