"""squawk lint of revision SQL: offline rendering of a throwaway Alembic project's revisions, and real squawk runs."""

import sys
from pathlib import Path

import pytest
from alembic.config import Config

from thirdai_platform.errors import UserError
from thirdai_platform.migrate import render, session
from thirdai_platform.migrate.findings import LIMIT
from thirdai_platform.migrate.parsed_sql import dropped, statements
from thirdai_platform.migrate.render import CannotRender, render_failures, render_revision_sql
from thirdai_platform.migrate.review.sqllint import lint_revisions, lint_sql, squawk_findings
from thirdai_platform.migrate.session import Session
from thirdai_platform.migrate.static_checks import lint_findings, whole_schema_limit
from thirdai_platform.migrate.walk.scope import revision_reach

REPO_SQUAWK_CONFIG = Path(__file__).resolve().parents[1] / "thirdai_platform" / "migrate" / "review" / "squawk.toml"

ENV_PY = """\
from alembic import context

config = context.config
context.configure(url=config.attributes["url"], literal_binds=True, transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
"""

FIRST_REVISION = """\
from alembic import op
import sqlalchemy as sa

revision = "a1"
down_revision = None


def upgrade():
    op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True), sa.Column("name", sa.Text()))


def downgrade():
    op.drop_table("users")
"""

SECOND_REVISION = """\
from alembic import op
import sqlalchemy as sa

revision = "b2"
down_revision = "a1"


def upgrade():
    op.add_column("users", sa.Column("age", sa.BigInteger(), nullable=False))
    op.create_index("ix_users_age", "users", ["age"])
    with op.get_context().autocommit_block():
        op.create_index("ix_users_name", "users", ["name"], postgresql_concurrently=True)


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("ix_users_name", table_name="users", postgresql_concurrently=True)
    op.drop_index("ix_users_age", table_name="users")
    op.drop_column("users", "age")
    op.create_index("ix_users_id_name", "users", ["id", "name"])
"""

THIRD_REVISION = """\
from alembic import op
import sqlalchemy as sa

revision = "c3"
down_revision = "b2"


def upgrade():
    op.drop_column("users", "name")


def downgrade():
    op.add_column("users", sa.Column("name", sa.Text()))
"""


@pytest.fixture
def project(tmp_path: Path) -> Session:
    """A two-revision Alembic project of its own, with the repository's .squawk.toml next to its alembic.ini."""
    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (tmp_path / ".squawk.toml").write_text(REPO_SQUAWK_CONFIG.read_text())
    (tmp_path / "migrations" / "env.py").write_text(ENV_PY)
    (tmp_path / "migrations" / "versions" / "a1_users.py").write_text(FIRST_REVISION)
    (tmp_path / "migrations" / "versions" / "b2_age.py").write_text(SECOND_REVISION)
    (tmp_path / "migrations" / "versions" / "c3_no_name.py").write_text(THIRD_REVISION)
    return Session(Config(str(tmp_path / "alembic.ini")))


def lint(sql: str) -> list:
    return lint_sql(sql, revision="r1", direction="upgrade", config_path=REPO_SQUAWK_CONFIG)


def test_render_upgrade_holds_only_that_revision(project):
    sql = render_revision_sql(project, "b2", "upgrade")
    assert "ALTER TABLE users ADD COLUMN age BIGINT NOT NULL" in sql
    assert "CREATE TABLE users" not in sql


def test_render_downgrade_holds_only_that_revision(project):
    sql = render_revision_sql(project, "b2", "downgrade")
    assert "ALTER TABLE users DROP COLUMN age" in sql
    assert "DROP TABLE users" not in sql


def test_render_first_revision_starts_from_base(project):
    assert "CREATE TABLE users" in render_revision_sql(project, "a1", "upgrade")
    assert "DROP TABLE users" in render_revision_sql(project, "a1", "downgrade")


def test_render_leaves_the_config_as_it_found_it(project):
    render_revision_sql(project, "b2", "upgrade")
    assert project.config.output_buffer is None
    assert project.config.attributes == {}  # what env.py was handed is gone; the SQL stays, for the next caller
    assert project.rendered.keys() == {("b2", "upgrade")}


def test_each_revision_and_direction_is_rendered_once_per_session(project, monkeypatch):
    runs = []
    run_env_py = session.run_env_py
    monkeypatch.setattr(session, "run_env_py", lambda scripts: runs.append(1) or run_env_py(scripts))
    first = render_revision_sql(project, "b2", "upgrade")
    lint_revisions(project, ["b2"])
    assert render_revision_sql(project, "b2", "upgrade") == first
    assert len(runs) == 2, "b2's upgrade and downgrade, once each"


def test_render_of_an_unknown_revision_is_a_user_error(project):
    with pytest.raises(UserError, match="nope"):
        render_revision_sql(project, "nope", "upgrade")


def test_not_null_column_without_default_is_flagged_with_squawks_advice():
    findings = lint("ALTER TABLE users ADD COLUMN age bigint NOT NULL;")
    [finding] = [f for f in findings if f.rule == "adding-required-field"]
    assert finding.statement == "ALTER TABLE users ADD COLUMN age bigint NOT NULL;"
    assert finding.help and finding.message
    assert (finding.revision, finding.direction, finding.severity) == ("r1", "upgrade", "warning")


def test_index_without_concurrently_is_flagged():
    rules = {finding.rule for finding in lint("CREATE INDEX ix_users_name ON users (name);")}
    assert "require-concurrent-index-creation" in rules


def test_a_safe_statement_with_timeouts_is_clean():
    sql = "SET lock_timeout = '2s';\nSET statement_timeout = '60s';\nALTER TABLE users ADD COLUMN nickname text;\n"
    assert lint(sql) == []


def test_a_finding_points_at_its_statement_when_statements_share_a_line():
    findings = lint("UPDATE users SET name = 'été'; CREATE INDEX ix_users_name ON users (name); SELECT 1;")
    [index] = [finding for finding in findings if finding.rule == "require-concurrent-index-creation"]
    assert index.statement == "CREATE INDEX ix_users_name ON users (name);"


def test_semicolons_inside_quotes_and_dollar_quotes_do_not_split_statements():
    sql = "SELECT ';' AS a, $$ ; $$ AS b;\nCREATE INDEX ix_users_name ON users (name);\n"
    [index] = [finding for finding in lint(sql) if finding.rule == "require-concurrent-index-creation"]
    assert index.statement == "CREATE INDEX ix_users_name ON users (name);"


def test_alembic_bookkeeping_is_not_linted(project):
    sql = render_revision_sql(project, "a1", "upgrade")
    findings = lint_sql(sql, revision="a1", direction="upgrade", config_path=None)
    assert findings, "squawk's defaults flag the BIGSERIAL of users"
    assert not [finding for finding in findings if "alembic_version" in finding.statement]


def test_alembics_own_transactions_are_understood(project):
    # The concurrent index runs after Alembic's COMMIT: squawk must not think it is inside a transaction.
    sql = render_revision_sql(project, "b2", "upgrade")
    findings = lint_sql(sql, revision="b2", direction="upgrade", config_path=None)
    rules = {finding.rule for finding in findings}
    assert "ban-concurrent-index-creation-in-transaction" not in rules
    assert "transaction-nesting" not in rules
    assert "require-concurrent-index-creation" in rules  # the plain CREATE INDEX inside the transaction


def test_one_squawk_run_tells_each_revision_and_direction_apart():
    # Concurrent index creation is banned only inside a transaction, which squawk assumes for SQL without BEGIN.
    add_column, add_index = (
        "ALTER TABLE users ADD COLUMN age bigint NOT NULL;",
        "CREATE INDEX CONCURRENTLY ix ON users (age);",
    )
    sql_of = {
        ("r1", "upgrade"): f"{add_column}\n{add_index}",
        ("r2", "upgrade"): f"BEGIN;\n{add_column}\nCOMMIT;\n{add_index}",
        ("r2", "downgrade"): "SELECT 1;",
        ("r3", "upgrade"): "-- nothing to run",
    }
    together = squawk_findings(sql_of, REPO_SQUAWK_CONFIG)
    one_by_one = {
        (revision, direction): lint_sql(sql, revision=revision, direction=direction, config_path=REPO_SQUAWK_CONFIG)
        for (revision, direction), sql in sql_of.items()
    }
    assert together == one_by_one
    rules = {step: {finding.rule for finding in findings} for step, findings in together.items()}
    assert "ban-concurrent-index-creation-in-transaction" in rules["r1", "upgrade"]
    assert "ban-concurrent-index-creation-in-transaction" not in rules["r2", "upgrade"]
    assert "adding-required-field" in rules["r2", "upgrade"]
    assert rules["r2", "downgrade"] == rules["r3", "upgrade"] == set()
    assert all((f.revision, f.direction) == step for step, findings in together.items() for f in findings)


def test_lint_revisions_lints_both_directions_of_every_revision(project):
    found = {(f.revision, f.direction, f.rule) for f in lint_revisions(project)}
    assert ("b2", "upgrade", "adding-required-field") in found
    assert ("b2", "downgrade", "require-concurrent-index-creation") in found
    assert ("c3", "upgrade", "ban-drop-column") in found
    assert not any(rule == "prefer-robust-stmts" for _, _, rule in found), "excluded in .squawk.toml"


def test_downgrades_may_drop_what_their_upgrade_added(project):
    downgrade_rules = {f.rule for f in lint_revisions(project) if f.direction == "downgrade"}
    assert not downgrade_rules & {"ban-drop-table", "ban-drop-column"}


def test_drops_declared_in_data_loss_are_reviewed_decisions(project, tmp_path):
    script = tmp_path / "migrations" / "versions" / "c3_no_name.py"
    script.write_text(
        THIRD_REVISION.replace("\ndef upgrade", 'data_loss = {"upgrade": ["users.name"]}\n\n\ndef upgrade', 1)
    )
    rules = {finding.rule for finding in lint_revisions(project, ["c3"])}
    assert "ban-drop-column" not in rules


def test_a_computed_data_loss_is_read_as_the_walk_reads_it(project, tmp_path):
    script = tmp_path / "migrations" / "versions" / "c3_no_name.py"
    declaration = 'COLUMN = "name"\ndata_loss = {"upgrade": [f"users.{COLUMN}"]}\n'
    script.write_text(THIRD_REVISION.replace("\ndef upgrade", declaration + "\n\ndef upgrade", 1))
    rules = {finding.rule for finding in lint_revisions(project, ["c3"])}
    assert "ban-drop-column" not in rules


def test_lint_revisions_can_be_limited_to_some_revisions(project):
    assert {finding.revision for finding in lint_revisions(project, ["a1"])} == {"a1"}


def test_ignore_with_a_reason_silences_a_rule_for_that_revision(project, tmp_path):
    script = tmp_path / "migrations" / "versions" / "b2_age.py"
    script.write_text(
        SECOND_REVISION.replace(
            "def upgrade():", "# squawk: ignore require-concurrent-index-creation -- users has 10 rows\ndef upgrade():"
        )
    )
    rules = {finding.rule for finding in lint_revisions(project, ["b2"])}
    assert "require-concurrent-index-creation" not in rules
    assert "adding-required-field" in rules


def test_ignore_without_a_reason_is_a_finding_and_silences_nothing(project, tmp_path):
    script = tmp_path / "migrations" / "versions" / "b2_age.py"
    script.write_text(
        SECOND_REVISION.replace("def upgrade():", "# squawk: ignore require-concurrent-index-creation\ndef upgrade():")
    )
    rules = {finding.rule for finding in lint_revisions(project, ["b2"])}
    assert {"invalid-ignore", "require-concurrent-index-creation"} <= rules


def test_missing_squawk_is_a_user_error(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError, match="squawk is not installed"):
        lint("SELECT 1;")


def test_repository_config_is_accepted_by_squawk():
    # squawk rejects a config with an unknown rule name; a clean run proves every excluded rule exists.
    assert lint("SELECT 1;") == []


# Reads rows through the connection: fine online, impossible offline (MockConnection); its downgrade cannot be
# compiled at all (autogenerate's placeholder for an unnamed constraint).
UNRENDERABLE_REVISION = """\
from alembic import op
import sqlalchemy as sa

revision = "d4"
down_revision = "c3"


def upgrade():
    sa.MetaData().reflect(bind=op.get_bind())


def downgrade():
    op.drop_constraint(None, "users", type_="unique")
"""


@pytest.fixture
def unrenderable(project, tmp_path) -> Session:
    (tmp_path / "migrations" / "versions" / "d4_reflect.py").write_text(UNRENDERABLE_REVISION)
    return project


def test_sql_that_cannot_be_rendered_offline_says_why_and_where(unrenderable, tmp_path):
    with pytest.raises(CannotRender) as upgrade:
        render_revision_sql(unrenderable, "d4", "upgrade")
    assert upgrade.value.failure.error.startswith("NoInspectionAvailable: No inspection system is available")
    assert upgrade.value.failure.error.endswith(f"({tmp_path / 'migrations' / 'versions' / 'd4_reflect.py'} line 9)")
    with pytest.raises(CannotRender, match="d4 downgrade cannot be rendered offline: CompileError: Can't emit DROP"):
        render_revision_sql(unrenderable, "d4", "downgrade")


def test_a_revision_that_cannot_be_rendered_is_tried_once(unrenderable, monkeypatch):
    failures = render_failures(unrenderable, ["c3", "d4"])
    assert [(f.revision, f.direction) for f in failures] == [("d4", "upgrade"), ("d4", "downgrade")]
    monkeypatch.setattr(render, "render_offline", lambda *args: pytest.fail("rendered again"))
    assert render_failures(unrenderable, ["c3", "d4"]) == failures


def test_the_lint_lints_what_renders_and_the_rest_is_a_limit(unrenderable):
    assert "d4" not in {f.revision for f in lint_revisions(unrenderable)}
    findings = lint_findings(unrenderable, ["b2", "d4"])
    assert {f.revision for f in findings if f.severity != LIMIT} == {"b2", None}  # None: the timeouts, for all
    limits = [f.message for f in findings if f.severity == LIMIT]
    assert [m.split(":")[0] for m in limits] == [
        "upgrade cannot be rendered offline",
        "downgrade cannot be rendered offline",
    ]
    assert all(m.endswith("; not linted") for m in limits)


def test_a_revision_checked_on_every_table_is_a_limit_saying_why(unrenderable):
    assert whole_schema_limit(unrenderable, "b2") is None
    limit = whole_schema_limit(unrenderable, "d4")
    assert (limit.revision, limit.check, limit.severity) == ("d4", "scope", LIMIT)
    assert limit.message.startswith(
        "checked on every table: its upgrade cannot be rendered offline, so the tables it "
        "acts on are unknown: NoInspectionAvailable"
    )


def test_without_squawk_the_lint_is_one_limit(project, monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    findings = lint_findings(project, ["a1", "b2"])
    assert [(f.revision, f.severity, f.message.split(";")[0]) for f in findings] == [
        (None, LIMIT, "squawk is not installed: install the dev dependencies (pip install squawk-cli)")
    ]


def test_timeouts_env_py_does_not_set_are_one_finding_for_the_history_not_one_per_revision(project):
    findings = [f for f in lint_findings(project, ["a1", "b2"]) if "timeout" in f.message]

    assert [(f.revision, f.message.split(":")[0]) for f in findings] == [
        (None, "require-lock-timeout in 2 revisions (first a1)"),
        (None, "require-statement-timeout in 2 revisions (first a1)"),
    ]
    assert all("env.py" in f.message for f in findings)


def test_a_statement_postgresql_rejects_is_still_split_from_the_others_and_linted():
    sql = "UPDATE users SET WHERE; SELECT ';', $$;$$; CREATE INDEX ix_users_name ON users (name)"
    assert statements(sql) == [
        "UPDATE users SET WHERE;",
        "SELECT ';', $$;$$;",
        "CREATE INDEX ix_users_name ON users (name);",
    ]
    assert {f.statement for f in lint(sql) if f.rule == "syntax-error"} == {"UPDATE users SET WHERE;"}


DYNAMIC_REVISION = """\
from alembic import op

revision = "d4"
down_revision = "c3"


def upgrade():
    op.execute("DO $$ BEGIN EXECUTE format('DELETE FROM %I', 'users'); END $$")


def downgrade():
    pass
"""


def test_a_revision_whose_tables_cannot_be_read_is_checked_on_every_table_saying_why(project, tmp_path):
    (tmp_path / "migrations" / "versions" / "d4_dynamic.py").write_text(DYNAMIC_REVISION)
    assert revision_reach(project, "d4") is None
    assert revision_reach(project, "c3").names >= {"users"}
    limit = whole_schema_limit(project, "d4")
    assert (limit.revision, limit.check, limit.severity) == ("d4", "scope", LIMIT)
    assert limit.message.startswith(
        "checked on every table: the tables its upgrade acts on are unknown: a DO block "
        "runs SQL it builds at run time (EXECUTE format('DELETE FROM"
    )


def test_what_a_statement_drops_is_read_by_the_parser_quoted_qualified_and_several_at_once():
    sql = (
        'DROP TABLE IF EXISTS public."Weird Table", b CASCADE; ALTER TABLE x DROP COLUMN IF EXISTS "Y", DROP COLUMN z;'
    )
    assert dropped(sql) == {"Weird Table", "b", "x.Y", "x.z"}
    found = [f for f in lint("ALTER TABLE users DROP COLUMN name, DROP COLUMN age;") if f.rule == "ban-drop-column"]
    assert found and {f.drops for f in found} == {frozenset({"users.name", "users.age"})}
