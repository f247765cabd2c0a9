import sqlalchemy as sa

metadata = sa.MetaData()

teams = sa.Table(
    "teams", metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("budget", sa.Numeric(12, 2)),
)
projects = sa.Table(
    "projects", metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
)
