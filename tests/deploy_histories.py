"""Small Alembic histories written into tmp_path for the deploy tests: the shared env.py and first revision
(0001_teams_users) of tests/histories, then revisions of the test's own, and a walk of them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

from thirdai_platform.migrate.findings import FAILURE, WalkReport
from thirdai_platform.migrate.session import load_session
from thirdai_platform.migrate.walk.deploy.rolling import ROLLING_BACK, ROLLING_DEPLOY
from thirdai_platform.migrate.walk.runner import Runner
from thirdai_platform.migrate.walk.walker import WalkOptions, walk

HISTORIES = Path(__file__).parent / "histories"

INI = f"""[alembic]
script_location = {HISTORIES}
version_locations = {HISTORIES}/common/teams_users %(here)s/versions
path_separator = space
prepend_sys_path = {HISTORIES}/common
"""

REVISION = '''"""{doc}"""
import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{parent}"
data_loss = {data_loss}


def upgrade() -> None:
    {upgrade}


def downgrade() -> None:
    {downgrade}
'''


def history(tmp_path: Path, *revisions: tuple[str, str, str], data_loss: dict | None = None) -> Path:
    """Revisions 0002, 0003, ... after the shared 0001_teams_users, each given as (doc, upgrade, downgrade)."""
    (tmp_path / "versions").mkdir()
    parent = "0001_teams_users"
    for number, (doc, upgrade, downgrade) in enumerate(revisions, start=2):
        revision = f"{number:04}_change"
        (tmp_path / "versions" / f"{revision}.py").write_text(
            REVISION.format(
                doc=doc,
                revision=revision,
                parent=parent,
                upgrade=upgrade,
                downgrade=downgrade,
                data_loss=data_loss or {},
            )
        )
        parent = revision
    (tmp_path / "models.py").write_text("import sqlalchemy as sa\nmetadata = sa.MetaData()\n")
    (tmp_path / "alembic.ini").write_text(INI)
    return tmp_path / "alembic.ini"


def walk_report(ini: Path, database_url: str, **options) -> WalkReport:
    url = make_url(database_url)
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return walk(
                Runner(load_session(ini, url=url).on(url, connection)),
                WalkOptions(rows=5, check_drift=False, **options),
            )
    finally:
        engine.dispose()


def deploy_findings(ini: Path, database_url: str, walk_passes: bool = True, **options) -> list:
    """The rolling-deploy findings; with walk_passes, the walk must find nothing else."""
    report = walk_report(ini, database_url, **options)
    others = [
        f for f in report.all_findings() if f.severity == FAILURE and f.check not in (ROLLING_DEPLOY, ROLLING_BACK)
    ]
    assert not (walk_passes and others), others
    return [f for f in report.all_findings() if f.check in (ROLLING_DEPLOY, ROLLING_BACK)]
