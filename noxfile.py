"""`nox -s migrations`: the merge gate for migrations. `nox -s tests`: the test suite. Arguments after `--` pass through."""

import hashlib
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["migrations", "tests"]

PYPROJECT = Path(__file__).parent / "pyproject.toml"
DEV = nox.project.dependency_groups(nox.project.load_toml(PYPROJECT), "dev")
INSTALL_ARGS = ("-e", ".", *DEV)
# Bytecode compiled once, as pip does: uv writes no .pyc files (UV_COMPILE_BYTECODE compiles only the packages it
# installs, not a venv installed before), nor does Python under PYTHONDONTWRITEBYTECODE=1, so every run compiled
# sqlalchemy, alembic and rich again (+1.3 s a run).
COMPILE = "import compileall, sysconfig; compileall.compile_dir(sysconfig.get_path('purelib'), quiet=2, workers=0)"


def install(session: nox.Session) -> None:
    """Install the project (editable) and the dev group once per venv and recipe: a warm run starts at once."""
    recipe = PYPROJECT.read_bytes() + repr((INSTALL_ARGS, COMPILE)).encode()
    venv = Path(session.virtualenv.location)
    installed = venv / f".installed-{hashlib.sha256(recipe).hexdigest()[:16]}"
    if installed.exists():
        return
    for stale in venv.glob(".installed-*"):  # a recipe changed back must install again
        stale.unlink()
    session.install(*INSTALL_ARGS)
    session.run("python", "-c", COMPILE)
    installed.touch()


@nox.session
def migrations(session: nox.Session) -> None:
    """Walk every revision up, down and up with generated data on an ephemeral PostgreSQL."""
    install(session)
    reports = [
        "--junit-xml",
        "reports/migrations.xml",
        "--json",
        "reports/migrations.json",
        "--sarif",
        "reports/migrations.sarif",
        "--html",
        "reports/migrations.html",
    ]
    session.run("python", "-m", "thirdai_platform.migrate", *reports, *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """ruff's lint and format check (pyproject.toml), then the test suite, against real ephemeral PostgreSQL servers."""
    install(session)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("pytest", *session.posargs)
