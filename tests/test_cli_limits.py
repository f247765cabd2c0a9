"""`python -m thirdai_platform.migrate` on other projects' histories, with Alembic's own env.py template: whatever
their code raises is a finding or one line, never a traceback; the reports are always written; failures, limits
and notes are counted apart; their INFO logging stays out of the output."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import alembic
import pytest

from thirdai_platform.database.url import ENV_VAR
from thirdai_platform.migrate import cli

REPO = Path(__file__).resolve().parents[1]
# Alembic's `alembic init` env.py: logging.config.fileConfig at every step, its own engine from sqlalchemy.url.
TEMPLATE_ENV_PY = Path(alembic.__file__).parent / "templates" / "generic" / "env.py"
# The logging part of Alembic's alembic.ini template: `alembic` at INFO, a console handler on stderr.
INI = """\
[alembic]
script_location = %(here)s/migrations

[loggers]
keys = root,sqlalchemy,alembic
[handlers]
keys = console
[formatters]
keys = generic
[logger_root]
level = WARNING
handlers = console
qualname =
[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine
[logger_alembic]
level = INFO
handlers =
qualname = alembic
[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic
[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""
# The lint is about how revisions lock and lose data; these test histories are not written to satisfy its advice.
SQUAWK_TOML = (
    'excluded_rules = ["require-timeout-settings", "prefer-robust-stmts", "require-lock-timeout", '
    '"require-statement-timeout", "prefer-bigint-over-int", "prefer-identity", "ban-drop-column"]\n'
)

CREATE_T = '''\
"""t"""
import sqlalchemy as sa
from alembic import op

revision = "0001_t"
down_revision = None
data_loss = {"downgrade": ["t"]}


def upgrade():
    op.create_table("t", sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True), sa.Column("name", sa.Text))


def downgrade():
    op.drop_table("t")
'''
# A data migration that reads the schema through the connection: fine online, impossible to render offline.
REFLECTS = '''\
"""extra, after reading the schema"""
import sqlalchemy as sa
from alembic import op

revision = "0002_reflect"
down_revision = "0001_t"
data_loss = {"downgrade": ["t.extra"]}


def upgrade():
    sa.MetaData().reflect(bind=op.get_bind())
    op.add_column("t", sa.Column("extra", sa.Text))


def downgrade():
    op.drop_column("t", "extra")
'''
# autogenerate's placeholder for an unnamed constraint: cannot run, and cannot be rendered either.
DROPS_UNNAMED = '''\
"""names are unique"""
from alembic import op

revision = "0003_unique"
down_revision = "0002_reflect"


def upgrade():
    op.create_index("ix_t_name", "t", ["name"])


def downgrade():
    op.drop_constraint(None, "t", type_="unique")
'''


# For a walk in the test's own process: no logging setup of its own (fileConfig would reconfigure pytest's).
PLAIN_ENV_PY = """\
from alembic import context

config = context.config
if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
else:
    context.configure(connection=config.attributes["connection"], transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
"""


def project(tmp_path: Path, *revisions: str, env_py: str | None = None) -> Path:
    """A project of its own, as `alembic init` writes it; returns its alembic.ini."""
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "alembic.ini").write_text(INI)
    (tmp_path / ".squawk.toml").write_text(SQUAWK_TOML)
    (tmp_path / "migrations" / "env.py").write_text(env_py or TEMPLATE_ENV_PY.read_text())
    for source in revisions:
        name = re.search(r'^revision = "(\w+)"', source, re.MULTILINE)[1]
        (versions / f"{name}.py").write_text(source)
    return tmp_path / "alembic.ini"


def migrate(
    ini: Path, *args: str, env: dict | None = None, python: list[str] | None = None
) -> subprocess.CompletedProcess:
    finished = subprocess.run(
        [*(python or [sys.executable, "-m", "thirdai_platform.migrate"]), "--config", str(ini), "--no-drift", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert "Traceback" not in finished.stderr + finished.stdout, finished.stderr
    return finished


def summary_counts(stdout: str) -> dict[str, int]:
    """{'failure': 1, 'limit': 2, 'note': 1} from 'FAILED: 3 revisions, 1 failures, 2 limits, 1 notes, 0.8 s'."""
    line = [line for line in stdout.splitlines() if re.match(r"(passed|FAILED)\b", line)][-1]
    return {kind: int(re.search(rf"(\d+) {kind}s", line)[1]) for kind in ("failure", "limit", "note")}


def junit(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def lint_limits(report: dict) -> dict[str, str]:
    return {
        r["revision"]: f["message"]
        for r in report["revisions"]
        for f in r["findings"]
        if f["check"] == "lint" and f["severity"] == "limit"
    }


def test_sql_that_cannot_be_rendered_is_a_limit_and_the_walk_is_reported(tmp_path, database_url):
    ini = project(tmp_path, CREATE_T, REFLECTS, DROPS_UNNAMED)
    out, xml = tmp_path / "out.json", tmp_path / "out.xml"

    finished = migrate(ini, "--url", database_url, "--json", str(out), "--junit-xml", str(xml))

    assert finished.returncode == 1, (
        finished.stdout + finished.stderr
    )  # the downgrade of 0003 fails: the walk's verdict
    report = json.loads(out.read_text())
    limits = lint_limits(report)
    assert limits["0002_reflect"].startswith("upgrade cannot be rendered offline: NoInspectionAvailable")
    assert "0002_reflect.py line 11" in limits["0002_reflect"] and limits["0002_reflect"].endswith("; not linted")
    assert limits["0003_unique"].startswith(
        "downgrade cannot be rendered offline: CompileError: Can't emit DROP CONSTRAINT"
    )
    walked = {r["revision"]: r["legs"] for r in report["revisions"]}
    assert walked["0002_reflect"] == {"upgrade": "ok", "downgrade": "ok", "upgrade again": "ok"}
    assert walked["0003_unique"]["downgrade"] == "failed"
    # the limits in their section of the console, counted apart; JUnit counts the failures the console counts
    counts = summary_counts(finished.stdout)
    assert report["counts"] == counts and counts["limit"] >= 2 and counts["failure"] >= 1
    assert "limits: what the tool could not check" in finished.stdout
    suite = junit(xml)
    assert int(suite.get("failures")) == counts["failure"] == len(suite.findall("testcase/failure"))
    assert all("cannot be rendered" not in f.text for f in suite.iter("failure"))
    lint_case = suite.find("testcase[@classname='migrations.0002_reflect'][@name='lint']")
    assert "[limit] 0002_reflect lint: upgrade cannot be rendered offline" in lint_case.find("system-out").text


def test_limits_fail_the_run_only_when_asked(tmp_path, database_url, pg_server):
    ini = project(tmp_path, CREATE_T, REFLECTS)

    passed = migrate(ini, "--url", database_url, "--json", str(tmp_path / "out.json"))
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"^passed: 2 revisions, 0 failures, [1-9]\d* limits", passed.stdout, re.MULTILINE)
    assert json.loads((tmp_path / "out.json").read_text())["passed"] is True

    again = pg_server.create_database().render_as_string(hide_password=False)
    failed = migrate(ini, "--url", again, "--fail-on-limits", "--json", str(tmp_path / "strict.json"))
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "FAILED (limits fail this run: --fail-on-limits): 2 revisions, 0 failures" in failed.stdout
    assert json.loads((tmp_path / "strict.json").read_text())["passed"] is False


def test_an_env_py_that_raises_is_one_line(tmp_path):
    ini = project(
        tmp_path,
        CREATE_T,
        env_py=TEMPLATE_ENV_PY.read_text().replace(
            "config = context.config", "config = context.config\nimport a_module_nobody_installed"
        ),
    )

    finished = migrate(ini, "--json", str(tmp_path / "out.json"))

    assert finished.returncode == 2
    assert finished.stderr.startswith(
        "error: env.py cannot run, so no revision can: ModuleNotFoundError: No module "
        "named 'a_module_nobody_installed' ("
    )
    assert "env.py line" in finished.stderr and len(finished.stderr.strip().splitlines()) == 1


def test_a_revision_script_that_cannot_be_imported_is_one_line_naming_it(tmp_path):
    ini = project(tmp_path, CREATE_T, REFLECTS.replace("from alembic import op", "from alembic import op\nimport nope"))

    finished = migrate(ini)

    assert finished.returncode == 2
    assert finished.stderr.strip() == (
        "error: cannot load the revision scripts: ModuleNotFoundError: No module named "
        f"'nope' ({tmp_path / 'migrations' / 'versions' / '0002_reflect.py'} line 4)"
    )


def test_without_squawk_the_lint_is_one_limit_and_the_walk_is_reported(tmp_path, database_url):
    ini = project(tmp_path, CREATE_T)
    out = tmp_path / "out.json"
    # No squawk on PATH, and none next to the Python running the tool.
    path = os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep) if not Path(d, "squawk").exists())
    nowhere = str(tmp_path / "no-venv" / "python")
    python = [
        sys.executable,
        "-c",
        f"import sys; sys.executable = {nowhere!r}; "
        "from thirdai_platform.migrate.cli import main; sys.exit(main(sys.argv[1:]))",
    ]

    finished = migrate(ini, "--url", database_url, "--json", str(out), python=python, env={**os.environ, "PATH": path})

    assert finished.returncode == 0, finished.stdout + finished.stderr
    report = json.loads(out.read_text())
    assert [f["message"] for f in report["findings"]] == [
        "squawk is not installed: install the dev dependencies (pip install squawk-cli); the SQL of the revisions was "
        "not linted"
    ]
    assert report["findings"][0]["severity"] == "limit"
    assert report["revisions"][0]["legs"] == {"upgrade": "ok", "downgrade": "ok", "upgrade again": "ok"}


def test_alembics_info_logging_stays_out_also_in_parts(tmp_path):
    warns = TEMPLATE_ENV_PY.read_text().replace(
        "target_metadata = None", "target_metadata = None\nlogging.getLogger('alembic.env').warning('env.py warns')"
    )
    ini = project(tmp_path, CREATE_T, REFLECTS, env_py="import logging\n" + warns)

    finished = migrate(ini, "--jobs", "2", "--no-lint")

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "(and 1 more, a part of the history each)" in finished.stdout
    assert "INFO  [alembic" not in finished.stdout + finished.stderr
    assert "WARNI [alembic.env] env.py warns" in finished.stderr  # warnings still show


def test_ctrl_c_is_one_line_and_exit_130(tmp_path, database_url):
    started = tmp_path / "started"
    sleeps = CREATE_T.replace(
        "def upgrade():\n",
        f"def upgrade():\n    open({str(started)!r}, 'w').close()\n    import time; time.sleep(60)\n",
    )
    ini = project(tmp_path, sleeps)
    walking = subprocess.Popen(
        [sys.executable, "-m", "thirdai_platform.migrate", "--config", str(ini), "--url", database_url, "--no-lint"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline and walking.poll() is None:
        time.sleep(0.05)
    walking.send_signal(signal.SIGINT)
    stdout, stderr = walking.communicate(timeout=60)

    assert walking.returncode == 130, stdout + stderr
    assert stderr.strip() == "interrupted" and "Traceback" not in stdout


@pytest.mark.parametrize("raised, exit_code", [(RuntimeError("the lint broke"), 0), (KeyboardInterrupt(), 130)])
def test_whatever_the_checks_after_the_walk_raise_the_walk_is_reported(
    tmp_path, database_url, monkeypatch, capsys, raised, exit_code
):
    def static_findings(_config):
        raise raised

    monkeypatch.setattr(cli, "static_findings", static_findings)
    monkeypatch.setenv(ENV_VAR, database_url)  # the walk hands its URL over in the environment: restored after
    ini, out = project(tmp_path, CREATE_T, env_py=PLAIN_ENV_PY), tmp_path / "out.json"

    assert cli.main(["--config", str(ini), "--url", database_url, "--no-drift", "--json", str(out)]) == exit_code

    report = json.loads(out.read_text())
    assert report["revisions"][0]["legs"] == {"upgrade": "ok", "downgrade": "ok", "upgrade again": "ok"}
    printed = capsys.readouterr()
    assert "passed: 1 revisions, 0 failures" in printed.out and "Traceback" not in printed.err
    if exit_code == 0:
        assert [(f["severity"], f["message"]) for f in report["findings"]] == [
            ("limit", "the static review and lint stopped: RuntimeError: the lint broke")
        ]
    else:
        assert printed.err.strip() == "interrupted"


def test_an_interrupted_walk_leaves_a_partial_report_of_the_revisions_it_walked(tmp_path, database_url):
    started = tmp_path / "started"
    sleeps = REFLECTS.replace(
        "    sa.MetaData().reflect(bind=op.get_bind())\n",
        f"    open({str(started)!r}, 'w').close()\n    import time; time.sleep(60)\n",
    )
    ini, out = project(tmp_path, CREATE_T, sleeps), tmp_path / "out.json"
    walking = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "thirdai_platform.migrate",
            "--config",
            str(ini),
            "--url",
            database_url,
            "--no-lint",
            "--json",
            str(out),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline and walking.poll() is None:
        time.sleep(0.05)
    walking.send_signal(signal.SIGINT)
    stdout, stderr = walking.communicate(timeout=60)

    assert walking.returncode == 130 and stderr.strip() == "interrupted", stdout + stderr
    assert "[1/2] 0001_t: walk passed in" in stdout
    partial = json.loads(out.read_text())
    assert (partial["interrupted"], partial["passed"]) == (True, False)
    assert [r["revision"] for r in partial["revisions"]] == ["0001_t"]
    assert partial["postgresql"]["source"] == "named by --url" and partial["postgresql"]["version"]
