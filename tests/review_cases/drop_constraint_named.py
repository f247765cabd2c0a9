from alembic import op
import sqlalchemy as sa

revision = "r_dcn_clean"
down_revision = None


def upgrade() -> None:
    op.drop_constraint("users_org_id_fkey", "users", type_="foreignkey")


def downgrade() -> None:
    op.create_foreign_key("users_org_id_fkey", "users", "orgs", ["org_id"], ["id"])
