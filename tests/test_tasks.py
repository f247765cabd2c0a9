"""`inv db.*` as a developer runs it: real processes, a real ephemeral PostgreSQL, exit codes and output."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, inspect, text

REPO = Path(__file__).resolve().parents[1]
INV = [sys.executable, "-m", "invoke", "--search-root", str(REPO)]


def heads_of_history() -> list[str]:
    from alembic.script import ScriptDirectory

    from thirdai_platform.migrate.session import load_config

    return list(ScriptDirectory.from_config(load_config(REPO / "alembic.ini")).get_heads())


HEAD = heads_of_history()[0]
REVISIONS = list((REPO / "alembic" / "versions").glob("*.py"))


def inv(
    *args: str, url: str | None = None, config: Path | None = None, timeout: float = 120, cwd: Path = REPO, **env: str
):
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URI", "ALEMBIC_CONFIG")}
    if url is not None:
        environ["DATABASE_URI"] = url
    if config is not None:
        environ["ALEMBIC_CONFIG"] = str(config)
    environ.update(env)
    return subprocess.run([*INV, *args], capture_output=True, text=True, timeout=timeout, env=environ, cwd=cwd)


def one_line_error(result) -> str:
    """The failure contract: non-zero exit, one line on stderr, no traceback."""
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: "), result.stderr
    return lines[-1]


def version_rows(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return []
            return [row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))]
    finally:
        engine.dispose()


def execute(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of our Alembic project (ini, env.py, versions) where a test may add revisions."""
    shutil.copytree(REPO / "alembic", tmp_path / "alembic", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "alembic.ini", tmp_path / "alembic.ini")
    return tmp_path / "alembic.ini"


def add_revision(project: Path, revision: str, down_revision: str, upgrade: str, downgrade: str = "pass") -> None:
    body = f'''
        """test revision {revision}"""
        import sqlalchemy as sa
        from alembic import op

        revision = {revision!r}
        down_revision = {down_revision!r}
        branch_labels = None
        depends_on = None


        def upgrade():
            {upgrade}


        def downgrade():
            {downgrade}
    '''
    (project.parent / "alembic" / "versions" / f"{revision}.py").write_text(textwrap.dedent(body))


def test_inv_list_shows_every_db_task():
    result = inv("--list")
    assert result.returncode == 0
    for name in (
        "upgrade",
        "downgrade",
        "revision",
        "current",
        "stamp",
        "history",
        "heads",
        "merge",
        "check",
        "lint",
        "plan",
        "verify",
        "server",
    ):
        assert f"db.{name}" in result.stdout
        helped = inv("--help", f"db.{name}")
        assert helped.returncode == 0 and "Usage: inv" in helped.stdout and len(helped.stdout.splitlines()) > 3


def test_upgrade_current_check_downgrade_and_back(database_url):
    assert inv("db.current", url=database_url).stdout.startswith("base")
    assert inv("db.upgrade", url=database_url).returncode == 0
    assert version_rows(database_url) == [HEAD]
    current = inv("db.current", url=database_url)
    assert current.returncode == 0 and current.stdout.startswith(f"{HEAD} (head)")
    assert inv("db.check", url=database_url).returncode == 0

    one_step = inv("db.downgrade", url=database_url)
    assert one_step.returncode == 0, one_step.stderr
    assert version_rows(database_url) and version_rows(database_url) != [HEAD]

    refused = one_line_error(inv("db.downgrade", "-r", "base", url=database_url))
    assert "--yes" in refused
    assert version_rows(database_url), "a refused downgrade must change nothing"
    assert inv("db.downgrade", "-r", "base", "--yes", url=database_url).returncode == 0
    assert version_rows(database_url) == []
    with create_engine(database_url).connect() as connection:
        assert inspect(connection).get_table_names() == ["alembic_version"]


def test_check_finds_a_database_behind_the_models(database_url):
    inv("db.upgrade", url=database_url)
    inv("db.downgrade", url=database_url)
    assert "not up to date" in one_line_error(inv("db.check", url=database_url))


def test_sql_mode_prints_sql_without_a_database():
    result = inv("db.upgrade", "--sql")
    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE teams" in result.stdout and "COMMIT" in result.stdout


def test_history_and_heads_list_revisions():
    history = inv("db.history")
    assert history.returncode == 0 and HEAD in history.stdout and "<base>" in history.stdout
    heads = inv("db.heads")
    assert heads.returncode == 0 and heads.stdout.startswith(HEAD)


def test_stamp_adopts_an_existing_database(database_url):
    execute(database_url, "CREATE TABLE legacy (id int)")
    refused = one_line_error(inv("db.upgrade", url=database_url))
    assert "no alembic_version" in refused and "inv db.stamp" in refused
    assert "inv db.stamp" in one_line_error(inv("db.current", url=database_url))
    assert inv("db.stamp", "head", url=database_url).returncode == 0
    assert version_rows(database_url) == [HEAD]


@pytest.mark.parametrize(
    "uri, expected",
    [
        (None, "DATABASE_URI is not set"),
        ("not a url", "not a valid database URL"),
        ("mysql://u:secret@127.0.0.1/x", "must be a PostgreSQL URL"),
    ],
)
def test_bad_database_uri(uri, expected):
    line = one_line_error(inv("db.current", url=uri))
    assert expected in line and "secret" not in line


def test_unreachable_database_fails_fast_without_the_password():
    started = time.monotonic()
    line = one_line_error(inv("db.upgrade", url="postgresql://me:s3cret@127.0.0.1:1/nowhere"))
    assert time.monotonic() - started < 15
    assert "cannot connect" in line and "s3cret" not in line and "***" in line


@pytest.fixture
def password_role(pg_server, database_url):
    """A role of our own with a password that needs percent-encoding in a URL."""
    password = "p%ss@w:rd/50%"
    execute(database_url, f"CREATE ROLE alice LOGIN SUPERUSER PASSWORD '{password}'")
    hba = Path(pg_server.base_dir) / "data" / "pg_hba.conf"
    original = hba.read_text()
    hba.write_text("host all alice 127.0.0.1/32 scram-sha-256\n" + original)
    execute(database_url, "SELECT pg_reload_conf()")
    yield password
    hba.write_text(original)
    execute(database_url, "SELECT pg_reload_conf()", "REASSIGN OWNED BY alice TO CURRENT_USER", "DROP ROLE alice")


def with_user(url: str, user: str, password: str) -> str:
    rest = url.split("@", 1)[1]
    return f"postgresql://{user}:{quote(password, safe='')}@{rest}"


def test_wrong_password_is_one_line_and_never_shown(database_url, password_role):
    url = with_user(database_url, "alice", "wrong-password")
    line = one_line_error(inv("db.current", url=url))
    assert "password authentication failed" in line and "wrong-password" not in line


def test_percent_in_password_works(database_url, password_role):
    url = with_user(database_url, "alice", password_role)
    result = inv("db.upgrade", url=url)
    assert result.returncode == 0, result.stderr
    assert password_role not in result.stdout + result.stderr
    assert version_rows(database_url) == [HEAD]


def test_unknown_revision(database_url):
    line = one_line_error(inv("db.upgrade", "-r", "nosuchrev", url=database_url))
    assert "nosuchrev" in line


def test_failing_migration_leaves_nothing_of_itself(database_url, project):
    add_revision(
        project,
        "9999_broken",
        HEAD,
        'op.create_table("half", sa.Column("id", sa.Integer))\n            op.execute("SELECT no_such_function()")',
    )
    line = one_line_error(inv("db.upgrade", url=database_url, config=project))
    assert "rolled back" in line and HEAD in line and "no_such_function" in line
    assert version_rows(database_url) == [HEAD]
    with create_engine(database_url).connect() as connection:
        assert not inspect(connection).has_table("half")


def test_several_heads_refused_then_merged(database_url, project):
    parent = heads_of_history()[0]
    add_revision(
        project, "9998_side", parent, 'op.create_table("side", sa.Column("id", sa.Integer))', 'op.drop_table("side")'
    )
    add_revision(
        project, "9997_other", parent, 'op.create_table("other", sa.Column("id", sa.Integer))', 'op.drop_table("other")'
    )
    line = one_line_error(inv("db.revision", "-m", "more", url=database_url, config=project))
    assert "2 heads" in line and "inv db.merge" in line
    merged = inv("db.merge", url=database_url, config=project)
    assert merged.returncode == 0, merged.stderr
    assert "wrote" in merged.stdout and len(list((project.parent / "alembic" / "versions").glob("*merge*"))) == 1
    assert inv("db.upgrade", url=database_url, config=project).returncode == 0


def test_revision_without_model_change_writes_nothing(database_url, project):
    before = set((project.parent / "alembic" / "versions").iterdir())
    result = inv("db.revision", "-m", "nothing", url=database_url, config=project)
    assert result.returncode == 0, result.stderr
    assert "no change" in result.stdout
    assert set((project.parent / "alembic" / "versions").iterdir()) == before
    assert version_rows(database_url) == [HEAD], "revision first upgrades the database to head"


def test_revision_on_a_changed_model_writes_a_reviewed_script(database_url, project):
    # The model change is made in the process that runs invoke, as an edited models.py would be: a new column, on
    # whichever table comes first, under a name no revision can have used.
    column = f"added_{uuid.uuid4().hex[:8]}"
    script = (
        "import sys; from sqlalchemy import Column, Text\n"
        "from thirdai_platform.database.models import Base\n"
        "table = sorted(Base.metadata.tables.values(), key=lambda t: t.name)[0]\n"
        f"table.append_column(Column({column!r}, Text))\n"
        "print('table', table.name)\n"
        "from invoke.main import program\n"
        "program.run(['inv', '--search-root', sys.argv[1], 'db.revision', '-m', 'a new column'])\n"
    )
    environ = {**os.environ, "DATABASE_URI": database_url, "ALEMBIC_CONFIG": str(project)}
    result = subprocess.run(
        [sys.executable, "-c", script, str(REPO)], capture_output=True, text=True, env=environ, timeout=120
    )
    assert result.returncode == 0, result.stderr
    written = [p for p in (project.parent / "alembic" / "versions").glob("*a_new_column*")]
    assert len(written) == 1 and f"wrote {written[0]}" in result.stdout
    table = result.stdout.split()[1]
    assert f"add_column('{table}', sa.Column('{column}'" in written[0].read_text()


def test_eight_concurrent_upgrades_apply_each_revision_once(database_url):
    environ = {**os.environ, "DATABASE_URI": database_url}
    processes = [
        subprocess.Popen(
            [*INV, "db.upgrade"], cwd=REPO, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(8)
    ]
    outputs = [p.communicate(timeout=180) for p in processes]
    assert [p.returncode for p in processes] == [0] * 8, [err for _, err in outputs]
    assert version_rows(database_url) == [HEAD]
    # Alembic logs "Running upgrade" per applied revision: across all processes, each revision exactly once.
    applied = [line for _, err in outputs for line in err.splitlines() if "Running upgrade" in line]
    assert len(applied) == len(set(applied)) == len(REVISIONS)


def test_verify_walks_our_history_on_an_ephemeral_server(tmp_path):
    result = inv("db.verify", "--rows", "2", "--html", str(tmp_path / "walk.html"), "--max-blocked-read", "1h")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed: " in result.stdout and HEAD in result.stdout
    assert HEAD in (tmp_path / "walk.html").read_text()


def test_verify_passes_the_deploy_limits_to_the_walk():
    refused = inv("db.verify", "--max-blocked-write", "soon")
    assert refused.returncode == 2 and "soon" in one_line_error(refused)


def test_lint_reviews_and_lints_without_a_database(project):
    clean = inv("db.lint")
    assert clean.returncode == 0 and "no findings" in clean.stdout
    add_revision(project, "9996_unreviewed", HEAD, 'op.drop_column("teams", "name")')
    line = one_line_error(inv("db.lint", "-r", "9996_unreviewed", config=project))
    assert "findings" in line
    result = inv("db.lint", "-r", "9996_unreviewed", config=project)
    assert "empty-downgrade" in result.stdout and "ban-drop-column" in result.stdout
    assert "drop-without-data-move" in result.stdout


def rehearsal(path: Path, revision: str) -> Path:
    """A walk's JSON report (as `nox -s migrations --json` writes it) in which only `revision` was walked, with the
    probe's numbers written by hand."""
    from thirdai_platform.migrate.findings import RevisionResult, WalkReport
    from thirdai_platform.migrate.report.files import write_json

    walked = RevisionResult(
        revision,
        "",
        {"upgrade": "ok", "downgrade": "ok", "upgrade again": "ok"},
        {"upgrade": 0.75},
        locks={
            "upgrade": [
                {
                    "table": "models",
                    "mode": "ACCESS EXCLUSIVE",
                    "seconds": 0.25,
                    "statement": "ALTER TABLE models ADD x int",
                    "statement_seconds": 0.2,
                }
            ]
        },
        blocked={
            "upgrade": [
                {
                    "table": "models",
                    "kind": "write",
                    "longest": 4.8,
                    "total": 5.0,
                    "waits": 2,
                    "lock": "ACCESS EXCLUSIVE",
                    "statement": "ALTER TABLE models ADD x int",
                }
            ]
        },
    )
    write_json(WalkReport([walked]), path)
    return path


def test_plan_says_what_upgrade_would_apply_in_order_with_its_verdicts_and_rehearsed_times(database_url, tmp_path):
    *_, third, second, last = ordered_revisions()
    assert inv("db.upgrade", "-r", third, url=database_url).returncode == 0
    report = rehearsal(tmp_path / "migrations.json", second)

    result = inv("db.plan", "--report", str(report), url=database_url)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"the database is at {third}; `inv db.upgrade` would apply 2 revisions, in order:"
    assert [line.split(":")[0] for line in lines if not line.startswith(" ")][1:] == [second, last]
    assert lines.count("  review and lint: passed, no findings") == 2
    assert (
        f"  rehearsed ({report}): walk passed; upgrade 0.75 s; ACCESS EXCLUSIVE on models for 0.25 s; writes "
        "waited up to 4.8 s behind ACCESS EXCLUSIVE (upgrade); rolling deploy safe"
    ) in lines
    assert f"  not rehearsed: {report} has no walk of it" in lines
    assert version_rows(database_url) == [third], "a plan applies nothing"

    assert (
        "no such file"
        in one_line_error(inv("db.plan", "--report", str(tmp_path / "none.json"), url=database_url)).lower()
    )
    (tmp_path / "broken.json").write_text("{")
    assert "not a walk report" in one_line_error(
        inv("db.plan", "--report", str(tmp_path / "broken.json"), url=database_url)
    )
    inv("db.upgrade", url=database_url)
    at_head = inv("db.plan", url=database_url)
    assert at_head.returncode == 0 and at_head.stdout == f"the database is at head ({HEAD}): nothing to apply\n"


def test_plan_shows_a_revisions_failing_review_and_no_rehearsal_by_default(database_url, project, tmp_path):
    assert inv("db.upgrade", url=database_url, config=project).returncode == 0
    add_revision(project, "9996_unreviewed", HEAD, 'op.drop_column("teams", "name")')

    result = inv("db.plan", url=database_url, config=project, cwd=tmp_path)  # no reports/ there

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == "9996_unreviewed: test revision 9996_unreviewed"
    assert lines[2].startswith("  review and lint: FAILED, ") and "ban-drop-column" in result.stdout
    assert lines[-1].startswith("  not rehearsed: no reports/migrations.json")


def ordered_revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    from thirdai_platform.migrate import history
    from thirdai_platform.migrate.session import load_config

    return [s.revision for s in history.in_order(ScriptDirectory.from_config(load_config(REPO / "alembic.ini")))]


def test_server_gives_a_database_for_the_tasks_and_stops_on_ctrl_c():
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URI"}
    server = subprocess.Popen(
        [*INV, "db.server"],
        cwd=REPO,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # a terminal's
    try:
        line = server.stdout.readline().strip()
        assert line.startswith("export DATABASE_URI=postgresql://postgres:"), line
        url = line.split("=", 1)[1]
        assert inv("db.upgrade", url=url).returncode == 0
        assert inv("db.current", url=url).stdout.startswith(f"{HEAD} (head)")
    finally:
        sent = time.monotonic()
        server.send_signal(signal.SIGINT)
        code = server.wait(timeout=10)
    assert (code, time.monotonic() - sent < 1.5) == (130, True)
    assert server.stderr.read().splitlines()[-1].startswith("stopped by SIGINT")
