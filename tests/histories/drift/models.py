import sqlalchemy as sa
from models_teams_users import teams, users

metadata = sa.MetaData()

teams(metadata)
users(
    metadata,
    sa.Column("name", sa.Text),
    # PLANTED DEFECT: a column added to the model without a migration
    sa.Column("avatar_url", sa.String(500)),
)
