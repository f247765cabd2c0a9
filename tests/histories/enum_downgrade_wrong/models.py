import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData()

jobs = sa.Table(
    "jobs", metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("status", postgresql.ENUM("queued", "in_progress", "done", name="job_status"), nullable=False,
              server_default="queued"),
)
