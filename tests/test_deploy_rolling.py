"""Rolling deploys: after each upgrade the parent version's reads and writes replayed on the new schema, on small
histories written here (deploy_histories.py)."""

from __future__ import annotations

from deploy_histories import deploy_findings, history

from thirdai_platform.migrate.findings import FAILURE, NOTE
from thirdai_platform.migrate.walk.deploy.rolling import ROLLING_BACK, ROLLING_DEPLOY


def test_a_renamed_column_breaks_the_running_versions_reads(tmp_path, database_url):
    ini = history(
        tmp_path,
        (
            "users.name becomes users.full_name",
            'op.alter_column("users", "name", new_column_name="full_name")',
            'op.alter_column("users", "full_name", new_column_name="name")',
        ),
    )

    [finding] = deploy_findings(ini, database_url)

    assert (finding.revision, finding.check, finding.severity) == ("0002_change", ROLLING_DEPLOY, NOTE)
    assert (finding.table, finding.column) == ("users", "name")
    assert "renamed to full_name" in finding.message and "expand now" in finding.message
    assert finding.statement.startswith('SELECT "id", "username", "name"')


def test_an_added_nullable_column_is_safe_both_ways(tmp_path, database_url):
    ini = history(
        tmp_path,
        (
            "users get a motto",
            'op.add_column("users", sa.Column("motto", sa.Text))',
            'op.drop_column("users", "motto")',
        ),
    )

    assert deploy_findings(ini, database_url) == []


def test_a_new_not_null_column_without_default_breaks_the_running_versions_inserts(tmp_path, database_url):
    upgrade = (
        'op.add_column("users", sa.Column("level", sa.Integer, nullable=False, server_default="1"))\n'
        '    op.alter_column("users", "level", server_default=None)'
    )
    ini = history(tmp_path, ("users get a level they must give", upgrade, 'op.drop_column("users", "level")'))

    [finding] = deploy_findings(ini, database_url, rolling_deploys=True)

    assert (finding.check, finding.severity, finding.table, finding.column) == (
        ROLLING_DEPLOY,
        FAILURE,
        "users",
        "level",
    )
    assert "inserts into users without level" in finding.message
    assert finding.statement.startswith('INSERT INTO public."users"')


def test_a_narrowed_type_refuses_the_running_versions_values(tmp_path, database_url):
    upgrade = 'op.alter_column("teams", "name", type_=sa.String(3), postgresql_using="left(name, 3)")'
    ini = history(
        tmp_path, ("team names of 3 characters", upgrade, 'op.alter_column("teams", "name", type_=sa.String(100))')
    )

    [finding] = deploy_findings(ini, database_url, walk_passes=False)  # the walk also finds the names cut

    assert finding.check == ROLLING_DEPLOY
    assert (finding.table, finding.column) == ("teams", "name")
    assert "character varying(100) → character varying(3)" in finding.message


def test_a_removed_enum_label_refuses_the_running_versions_writes(tmp_path, database_url):
    create = (
        "op.execute(\"CREATE TYPE mood AS ENUM ('calm', 'busy', 'gone')\")\n"
        '    op.add_column("teams", sa.Column("mood", sa.Enum(name="mood", create_type=False)))'
    )
    drop = 'op.drop_column("teams", "mood")\n    op.execute("DROP TYPE mood")'
    remove_label = (
        'op.execute("ALTER TYPE mood RENAME TO old_mood")\n'
        "    op.execute(\"CREATE TYPE mood AS ENUM ('calm', 'busy')\")\n"
        '    op.execute("ALTER TABLE teams ALTER COLUMN mood TYPE mood USING '
        "(CASE mood::text WHEN 'gone' THEN 'busy' ELSE mood::text END)::mood\")\n"
        '    op.execute("DROP TYPE old_mood")'
    )
    ini = history(
        tmp_path,
        ("teams have a mood", create, drop),
        ("the mood 'gone' goes", remove_label, "op.execute(\"ALTER TYPE mood ADD VALUE 'gone'\")"),
        data_loss={"upgrade": ["teams.mood"]},
    )

    [finding] = deploy_findings(ini, database_url)

    assert (finding.revision, finding.table, finding.column) == ("0003_change", "teams", "mood")
    assert "writes 'gone' to teams.mood, a label the upgrade removed from enum mood" in finding.message


def test_a_downgrade_restoring_a_required_column_breaks_the_new_versions_inserts(tmp_path, database_url):
    add_required = (
        'op.add_column("teams", sa.Column("code", sa.Text, nullable=False, server_default="x"))\n'
        '    op.alter_column("teams", "code", server_default=None)'
    )
    ini = history(
        tmp_path,
        ("teams get a code they must give", add_required, 'op.drop_column("teams", "code")'),
        ("teams lose their code", 'op.drop_column("teams", "code")', add_required),
        data_loss={"upgrade": ["teams.code"]},
    )

    found = {(f.revision, f.check, f.column) for f in deploy_findings(ini, database_url)}

    assert found == {
        ("0002_change", ROLLING_DEPLOY, "code"),  # the parent does not give it
        ("0003_change", ROLLING_DEPLOY, "code"),  # the parent reads it
        ("0003_change", ROLLING_BACK, "code"),
    }  # back at the parent, the new version does not give it
