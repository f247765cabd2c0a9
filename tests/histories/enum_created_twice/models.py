import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData()

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("email", sa.String(200)),
)
models = sa.Table(
    "models", metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("deploy_status", postgresql.ENUM("stopped", "starting", "running", name="deploy_status"), nullable=False,
              server_default="stopped"),
)
