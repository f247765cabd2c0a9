"""A project's env.py and revision scripts run as `alembic upgrade` runs them: with the driver its configuration
names (an async env.py, raw SQL with `%`), and with each script's top level run inside the migration (an enum
created at import)."""

from __future__ import annotations

import importlib.util
import os
import textwrap
from pathlib import Path

import alembic
import pytest
from sqlalchemy.engine import make_url
from test_walk import walk_history

from thirdai_platform.database.url import ENV_VAR
from thirdai_platform.errors import UserError
from thirdai_platform.migrate.findings import FAILURE
from thirdai_platform.migrate.review.sqllint import DEFAULT_CONFIG, _squawk_config
from thirdai_platform.migrate.session import Session, load_config, load_session, run_env, their_url
from thirdai_platform.migrate.static_checks import review_findings
from thirdai_platform.migrate.walk.roundtrip import LEGS
from thirdai_platform.migrate.walk.toplevel import acting_top_level

ALEMBIC_TEMPLATES = Path(alembic.__file__).parent / "templates"
REPO_ROOT = Path(__file__).parents[1]
ALL_OK = {leg: "ok" for leg in LEGS}
OUR_URL = make_url("postgresql+psycopg2://walker:s%cret@127.0.0.1:5999/walk")

LOGGING = """
[loggers]
keys = root
[handlers]
keys = console
[formatters]
keys = generic
[logger_root]
level = WARNING
handlers = console
[handler_console]
class = StreamHandler
args = (sys.stderr,)
formatter = generic
[formatter_generic]
format = %%(levelname)s %%(message)s
"""

TEAMS = '''
"""teams"""
import sqlalchemy as sa
from alembic import op

revision, down_revision = "0001_teams", None


def upgrade():
    op.create_table("teams", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text, nullable=False))


def downgrade():
    op.drop_table("teams")
'''

FORMAT_IN_RAW_SQL = '''
"""raw SQL with a % in it"""
from alembic import op

revision, down_revision = "0002_format", "0001_teams"


def upgrade():
    name = op.get_bind().exec_driver_sql("SELECT format('%I.%I', 'public', 'teams')").scalar()
    op.execute(f"COMMENT ON TABLE {name} IS 'formatted'")


def downgrade():
    op.execute("COMMENT ON TABLE teams IS NULL")
'''

ENUM_AT_IMPORT = '''
"""kind, an enum created when the script is imported"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ENUM

revision, down_revision = "0002_kind", "0001_teams"

try:
    ENUM("small", "large", name="team_kind").create(op.get_bind(), checkfirst=True)
except NameError:  # loaded outside a migration (alembic history, heads)
    pass


def upgrade():
    op.add_column("teams", sa.Column("kind", ENUM(name="team_kind", create_type=False)))


def downgrade():
    op.drop_column("teams", "kind")
    op.execute("DROP TYPE team_kind")
'''

MOTTO = '''
"""motto: walked only when the revision before it was"""
import sqlalchemy as sa
from alembic import op

revision, down_revision = "0003_motto", "{parent}"


def upgrade():
    op.add_column("teams", sa.Column("motto", sa.Text))


def downgrade():
    op.drop_column("teams", "motto")
'''


def plant(root: Path, env_py: str, revisions: dict[str, str], url_line: str = "") -> Path:
    """An Alembic project in root: alembic.ini (with `url_line` in [alembic]), env.py, versions/."""
    (root / "versions").mkdir(parents=True)
    (root / "alembic.ini").write_text(f"[alembic]\nscript_location = %(here)s\n{url_line}\n{LOGGING}")
    (root / "env.py").write_text(env_py)
    for name, source in revisions.items():
        (root / "versions" / f"{name}.py").write_text(textwrap.dedent(source).lstrip())
    return root / "alembic.ini"


def assert_walked_without_failure(report) -> None:
    assert [f for f in report.all_findings() if f.severity == FAILURE] == []
    assert [r.legs for r in report.revisions] == [ALL_OK] * len(report.revisions)


@pytest.mark.skipif(importlib.util.find_spec("asyncpg") is None, reason="asyncpg is a dev dependency")
def test_an_async_env_py_gets_its_own_driver_and_raw_sql_with_a_percent_runs(tmp_path, database_url):
    ini = plant(
        tmp_path,
        (ALEMBIC_TEMPLATES / "async" / "env.py").read_text(),
        {"0001_teams": TEAMS, "0002_format": FORMAT_IN_RAW_SQL, "0003_motto": MOTTO.format(parent="0002_format")},
        url_line="sqlalchemy.url = postgresql+asyncpg://app:secret@db.example/app",
    )

    report = walk_history(ini, database_url, check_drift=False)

    assert_walked_without_failure(report)
    assert [r.revision for r in report.revisions] == ["0001_teams", "0002_format", "0003_motto"]


# A revision that drops what it made, run by psycopg 3 preparing every statement (prepare_threshold=0): after a
# DROP it sends DEALLOCATE ALL, which takes the lock observer's prepared statements with its own.
DROPS = """
\"\"\"an index made and dropped\"\"\"
from alembic import op

revision, down_revision = "0002_index", "0001_teams"


def upgrade():
    op.create_index("ix_teams_name", "teams", ["name"])
    op.drop_index("ix_teams_name")
    op.create_index("ix_teams_name", "teams", ["name"])


def downgrade():
    op.drop_index("ix_teams_name")
"""


@pytest.mark.skipif(importlib.util.find_spec("psycopg") is None, reason="psycopg 3 is a dev dependency")
def test_a_psycopg_3_project_that_drops_what_it_made_walks_as_alembic_runs_it(tmp_path, database_url):
    env_py = (ALEMBIC_TEMPLATES / "generic" / "env.py").read_text()
    assert "poolclass=pool.NullPool," in env_py
    env_py = env_py.replace(
        "poolclass=pool.NullPool,", 'poolclass=pool.NullPool, connect_args={"prepare_threshold": 0},'
    )
    ini = plant(
        tmp_path,
        env_py,
        {"0001_teams": TEAMS, "0002_index": DROPS},
        url_line="sqlalchemy.url = postgresql+psycopg://app:secret@db.example/app",
    )

    report = walk_history(ini, database_url, check_drift=False)

    assert_walked_without_failure(report)
    assert report.revisions[-1].locks["upgrade"][0]["table"] == "teams"  # still observed


# An env.py that only notes where it would find the database.
SEEING_ENV_PY = f"""
import os
from alembic import context

context.config.attributes["seen"].append((context.config.get_main_option("sqlalchemy.url"), os.environ.get("{ENV_VAR}")))
"""


def test_the_url_handed_over_keeps_the_driver_their_ini_names_and_our_server_for_the_call_only(tmp_path, monkeypatch):
    pytest.importorskip("asyncpg")
    monkeypatch.setenv(ENV_VAR, "postgresql://theirs@db.example/app")
    ini = plant(tmp_path, SEEING_ENV_PY, {}, url_line="sqlalchemy.url = postgresql+asyncpg://app@db.example/app")
    session = Session(load_config(ini), OUR_URL)
    session.config.attributes["seen"] = []

    run_env(session)
    run_env(session)  # a second time (the lint after the walk): still their driver, not ours

    for in_ini, in_environ in session.config.attributes["seen"]:
        assert in_ini.replace("%%", "%") == in_environ
        handed = make_url(in_environ)
        assert handed.drivername == "postgresql+asyncpg"
        assert (handed.host, handed.port, handed.database, handed.username, handed.password) == (
            "127.0.0.1",
            5999,
            "walk",
            "walker",
            "s%cret",
        )
    assert len(session.config.attributes["seen"]) == 2
    assert session.config.get_main_option("sqlalchemy.url") == "postgresql+asyncpg://app@db.example/app"
    assert os.environ[ENV_VAR] == "postgresql://theirs@db.example/app"
    assert session.config.attributes.keys() == {"seen"}  # nothing of ours left behind


def test_without_a_driver_in_the_ini_database_uri_names_it_else_ours_is_kept(tmp_path, monkeypatch):
    pytest.importorskip("asyncpg")
    monkeypatch.setenv(ENV_VAR, "postgresql+asyncpg://app@db.example/app")
    assert their_url(load_config(plant(tmp_path / "a", "", {})), OUR_URL).drivername == "postgresql+asyncpg"

    monkeypatch.setenv(ENV_VAR, "")
    placeholder = "sqlalchemy.url = driver://user:pass@localhost/dbname"  # what `alembic init` writes
    assert their_url(load_config(plant(tmp_path / "b", "", {}, url_line=placeholder)), OUR_URL) == OUR_URL


def test_a_driver_that_is_not_installed_is_one_line(tmp_path):
    drivers = ("psycopg2cffi", "psycopg", "pg8000", "asyncpg")  # dialects SQLAlchemy has for PostgreSQL
    missing = next((d for d in drivers if importlib.util.find_spec(d) is None), None)
    if missing is None:
        pytest.skip("every PostgreSQL driver SQLAlchemy knows is installed here")
    config = load_config(plant(tmp_path, "", {}, url_line=f"sqlalchemy.url = postgresql+{missing}://app@db/app"))

    with pytest.raises(
        UserError, match=rf"^the project's alembic.ini names postgresql\+{missing}; install {missing} to walk it$"
    ):
        their_url(config, OUR_URL)


def test_an_enum_created_at_import_exists_in_its_steps_as_under_alembic_upgrade(tmp_path, database_url):
    ini = plant(
        tmp_path,
        (Path(__file__).parent / "histories" / "env.py")
        .read_text()
        .replace('Path(config.config_file_name).parent / "models.py"', 'Path(__file__).parent / "models.py"'),
        {"0001_teams": TEAMS, "0002_kind": ENUM_AT_IMPORT, "0003_motto": MOTTO.format(parent="0002_kind")},
    )
    (tmp_path / "models.py").write_text("import sqlalchemy as sa\nmetadata = sa.MetaData()\n")

    report = walk_history(ini, database_url, check_drift=False)

    assert_walked_without_failure(report)
    assert [r.revision for r in report.revisions] == ["0001_teams", "0002_kind", "0003_motto"]


def test_only_a_top_level_that_acts_is_run_again(tmp_path):
    plain, acting = tmp_path / "plain.py", tmp_path / "acting.py"
    plain.write_text(textwrap.dedent(TEAMS) + '\nKINDS = ("small", "large")\nprint("imported")\n')
    acting.write_text(textwrap.dedent(ENUM_AT_IMPORT))

    assert acting_top_level(plain) is None
    assert acting_top_level(acting) is not None


def test_the_squawk_config_is_the_projects_beside_alembic_ini_else_at_its_repository_root_else_ours(tmp_path):
    (tmp_path / ".git").mkdir()
    ini = plant(tmp_path / "db" / "migrations", "", {})
    assert _squawk_config(load_config(ini)) == DEFAULT_CONFIG  # none in the project: ours

    (tmp_path / ".squawk.toml").write_text("excluded_rules = []\n")
    assert _squawk_config(load_config(ini)) == tmp_path / ".squawk.toml"
    (ini.parent / ".squawk.toml").write_text("excluded_rules = []\n")
    assert _squawk_config(load_config(ini)) == ini.parent / ".squawk.toml"


@pytest.mark.parametrize("url_line, flagged", [("sqlalchemy.url = postgresql+asyncpg://app@db/app", False), ("", True)])
def test_a_percent_in_raw_sql_is_flagged_only_for_a_driver_that_takes_it_for_a_placeholder(tmp_path, url_line, flagged):
    ini = plant(tmp_path, "", {"0001_teams": TEAMS, "0002_format": FORMAT_IN_RAW_SQL}, url_line=url_line)

    found = review_findings(load_session(ini), ["0001_teams", "0002_format"])

    assert any("percent-in-raw-sql" in f.message for f in found) == flagged
