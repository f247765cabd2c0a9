"""`nox -s migrations`: the merge gate for migrations. `nox -s tests`: the test suite. Arguments after `--` pass through."""
import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["migrations", "tests"]

DEV = nox.project.dependency_groups(nox.project.load_toml("pyproject.toml"), "dev")


def install(session: nox.Session) -> None:
    session.install("-e", ".", *DEV)


@nox.session
def migrations(session: nox.Session) -> None:
    """Walk every revision up, down and up with generated data on an ephemeral PostgreSQL."""
    install(session)
    reports = ["--junit-xml", "reports/migrations.xml", "--json", "reports/migrations.json"]
    session.run("python", "-m", "thirdai_platform.migrate", *reports, *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite, against real ephemeral PostgreSQL servers."""
    install(session)
    session.run("pytest", *session.posargs)
