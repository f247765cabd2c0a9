import sqlalchemy as sa
from models_teams_users import teams, users
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData()

teams(metadata)
users(metadata, sa.Column("name", sa.Text), sa.Column("email", sa.String(200)))
models = sa.Table(
    "models", metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("deploy_status", postgresql.ENUM("stopped", "starting", "running", name="deploy_status"), nullable=False,
              server_default="stopped"),
)
