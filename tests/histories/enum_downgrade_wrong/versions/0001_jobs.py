"""Training jobs and their status.

Revision ID: 0001_jobs
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_jobs"
down_revision = None

JOB_STATUS = postgresql.ENUM("queued", "running", "done", name="job_status")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("status", JOB_STATUS, nullable=False, server_default="queued"),
    )


def downgrade() -> None:
    op.drop_table("jobs")
    JOB_STATUS.drop(op.get_bind())
