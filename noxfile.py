"""`nox -s migrations`: the merge gate for migrations. `nox -s tests`: the test suite. Arguments after `--` pass through."""
import hashlib
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["migrations", "tests"]

PYPROJECT = Path(__file__).parent / "pyproject.toml"
DEV = nox.project.dependency_groups(nox.project.load_toml(PYPROJECT), "dev")


def install(session: nox.Session) -> None:
    """Install the project (editable) and the dev group, once per venv and pyproject.toml: a warm run starts at once."""
    digest = hashlib.sha256(PYPROJECT.read_bytes()).hexdigest()[:16]
    installed = Path(session.virtualenv.location) / f".installed-{digest}"
    if installed.exists():
        return
    session.install("-e", ".", *DEV)
    installed.touch()


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
