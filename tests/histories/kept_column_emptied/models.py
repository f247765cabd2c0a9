import sqlalchemy as sa
from models_teams_users import teams, users

metadata = sa.MetaData()

teams(metadata)
users(metadata, sa.Column("name", sa.Text), sa.Column("password_hash", sa.Text))
