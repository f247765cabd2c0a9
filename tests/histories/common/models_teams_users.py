"""The teams and users tables of common/teams_users/0001_teams_users.py, for the models.py of each history that
starts from that revision; the history adds the columns its own revisions give each table.

Functions, not module-level tables: this module is imported once per process but every history needs its own
MetaData.
"""
import sqlalchemy as sa


def teams(metadata: sa.MetaData, *columns: sa.Column) -> sa.Table:
    return sa.Table(
        "teams", metadata,
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        *columns,
    )


def users(metadata: sa.MetaData, *columns: sa.Column) -> sa.Table:
    """users without its `name` column, which some histories rename: pass the one the history ends with."""
    return sa.Table(
        "users", metadata,
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
        sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="SET NULL")),
        *columns,
    )
