import sqlalchemy as sa
from models_teams_users import teams, users

metadata = sa.MetaData()

teams(metadata)
users(metadata, sa.Column("full_name", sa.Text),
      sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()))
