import sqlalchemy as sa
from models_teams_users import teams, users

metadata = sa.MetaData()

teams(metadata, sa.Column("budget", sa.Numeric(12, 2)))
users(metadata, sa.Column("name", sa.Text))
projects = sa.Table(
    "projects", metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
)
