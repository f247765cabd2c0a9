import sqlalchemy as sa

metadata = sa.MetaData()

models = sa.Table(
    "models", metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("name", sa.String(10), nullable=False),
    sa.Column("description", sa.Text),
)
