import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from models_teams_users import teams, users

metadata = sa.MetaData()

teams(metadata, sa.Column("budget", sa.Numeric(8, 3)))
users(metadata, sa.Column("name", JSONB), sa.Column("created_at", sa.DateTime(timezone=True),
                                                    server_default=sa.func.now(), nullable=False),
      sa.Column("updated_at", sa.DateTime), sa.Column("nickname", sa.Text))
sa.Table("notes", metadata, sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
         sa.Column("body", sa.Text, nullable=False))
