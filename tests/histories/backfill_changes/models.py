import sqlalchemy as sa

metadata = sa.MetaData()

teams = sa.Table(
    "teams", metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
)
users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("name", sa.Text),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="SET NULL")),
    sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
)
