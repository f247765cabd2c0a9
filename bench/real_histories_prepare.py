"""The public Alembic histories of bench/real_histories.py, and how each becomes a project a new user would set up.

Each history comes from a wheel on PyPI at a pinned version (`pip download --no-deps`), unpacked into a cache outside
the repository. Its project dir holds their versions/ as they are, an alembic.ini and the minimal env.py of
bench/real_histories/ (Alembic's generic or async template), and the few modules their revisions import from their
own package: copied from the wheel when they import nothing else of it, stubbed (bench/real_histories/stubs/) when
they do. Each history gets a venv of its own (uv) with this project, squawk and the history's own light deps, so
nothing it needs lands in the team's venvs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
FILES = BENCH / "real_histories"
CACHE = Path.home() / ".cache" / "thirdai-real-histories"
PLACEHOLDER_URL = "localhost/real"  # the tool replaces the URL: only the dialect and driver named here count


@dataclass(frozen=True)
class History:
    name: str
    package: str
    version: str
    migrations: str  # the wheel's folder holding env.py
    versions: str  # their revisions, under migrations
    driver: str  # as the project itself names it
    postgresql_only: bool
    pip: tuple[str, ...] = ()  # their revisions' own imports, installed into the history's venv
    copied: tuple[str, ...] = ()  # modules of the wheel their revisions import that import nothing else of it
    stubs: str | None = None  # folder under bench/real_histories/stubs
    env: str = "env_sync.py"
    start: str | None = None  # a script printing the schema its history starts from (given to the walk as a dump)

    @property
    def url(self) -> str:
        return f"{self.driver}://{PLACEHOLDER_URL}"


HISTORIES = (
    History(
        "ckan",
        "ckan",
        "2.12.0",
        "ckan/migration",
        "versions",
        "postgresql",
        True,
        copied=("ckan/migration/__init__.py",),
    ),
    History(
        "zou",
        "zou",
        "1.0.97",
        "zou/migrations",
        "versions",
        "postgresql+psycopg",
        True,
        pip=("psycopg[binary]==3.3.4", "sqlalchemy-utils", "babel"),
        stubs="zou",
    ),
    History(
        "prefect",
        "prefect",
        "3.9.1",
        "prefect/server/database/_migrations",
        "versions/postgresql",
        "postgresql+asyncpg",
        True,
        pip=("prefect==3.9.1",),
        env="env_async.py",
    ),
    # The same history on psycopg2 with the sync env.py: what the walk finds once it gets past the driver.
    History(
        "prefect-psycopg2",
        "prefect",
        "3.9.1",
        "prefect/server/database/_migrations",
        "versions/postgresql",
        "postgresql",
        True,
        pip=("prefect==3.9.1",),
    ),
    History(
        "mlflow",
        "mlflow-skinny",
        "3.17.2",
        "mlflow/store/db_migrations",
        "versions",
        "postgresql",
        False,
        pip=("mlflow-skinny==3.17.2",),
    ),
    # mlflow creates its initial tables with create_all before its first revision: the same walk from that schema.
    History(
        "mlflow-start",
        "mlflow-skinny",
        "3.17.2",
        "mlflow/store/db_migrations",
        "versions",
        "postgresql",
        False,
        pip=("mlflow-skinny==3.17.2",),
        start="start_mlflow.py",
    ),
    History(
        "dagster",
        "dagster",
        "1.13.29",
        "dagster/_core/storage/alembic",
        "versions",
        "postgresql",
        False,
        pip=("dagster==1.13.29",),
    ),
)
# The smallest histories showing what the tool gets wrong on the real ones (bench/real_histories/repro/).
REPROS = tuple(
    History(f"repro-{name}", "repro", "-", f"repro/{name}", "versions", driver, False, pip=("asyncpg",), env=env)
    for name, driver, env in (
        ("offline-result", "postgresql", "env_sync.py"),
        ("unnamed-constraint", "postgresql", "env_sync.py"),
        ("server-default-now", "postgresql", "env_sync.py"),
        ("dropped-table", "postgresql", "env_sync.py"),
        ("async-driver", "postgresql+asyncpg", "env_async.py"),
        ("copied-ids", "postgresql", "env_sync.py"),
        ("index-rename", "postgresql", "env_sync.py"),
        ("enum-label", "postgresql", "env_sync.py"),
        ("random-id", "postgresql", "env_sync.py"),
    )
)


def run(command: list[str], **options) -> None:
    """A preparing step; its output goes to the bench's log only when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, **options)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def pip_command() -> list[str]:
    """pip of this Python when it has one (a uv-made venv has not), else the pip on PATH."""
    probe = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True)
    if probe.returncode == 0:
        return [sys.executable, "-m", "pip"]
    found = shutil.which("pip") or shutil.which("pip3")
    if not found:
        raise RuntimeError("no pip found to download the wheels with")
    return [found]


def fetch(history: History) -> Path:
    """The wheel unpacked into the cache; downloaded on the first run only."""
    if history.package == "repro":
        return FILES
    unpacked = CACHE / "wheels" / f"{history.name}-{history.version}"
    if (unpacked / history.migrations / "env.py").exists():
        return unpacked
    downloads = CACHE / "downloads"
    wheel_prefix = history.package.replace("-", "_") + f"-{history.version}-"
    if not any(downloads.glob(f"{wheel_prefix}*.whl")):
        run(
            [
                *pip_command(),
                "download",
                "--no-deps",
                "--only-binary",
                ":all:",
                f"{history.package}=={history.version}",
                "-d",
                str(downloads),
            ]
        )
    wheel = next(downloads.glob(f"{wheel_prefix}*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacked)
    return unpacked


def venv_for(history: History) -> Path:
    """The history's own venv: this project (editable) with its dev group, and the history's pip list."""
    venv = CACHE / "venvs" / history.name.split("-")[0]  # shared by the variants of one history
    python = venv / "bin" / "python"
    marker = venv / "installed.txt"
    # The dev group too: the CLI's ephemeral server (testing.postgresql) and squawk are dev dependencies.
    project_file = (REPO / "pyproject.toml").read_text()  # a dependency added there means installing again
    wanted = "\n".join((project_file, "--group", "dev", *history.pip))
    if marker.exists() and marker.read_text() == wanted:
        return python
    if not python.exists():
        run(["uv", "venv", "--python", sys.executable, str(venv)])
    run(
        [
            "uv",
            "pip",
            "install",
            "--python",
            str(python),
            "-e",
            str(REPO),
            "--group",
            str(REPO / "pyproject.toml:dev"),
            *history.pip,
        ]
    )
    # Bytecode compiled once, as pip does for a user (uv does not): under PYTHONDONTWRITEBYTECODE every run would
    # compile the history's packages again (mlflow: 7 s), in the floor and the CLI alike.
    compile_all = (
        "import compileall, sysconfig; compileall.compile_dir(sysconfig.get_path('purelib'), quiet=2, workers=0)"
    )
    run([str(python), "-c", compile_all])
    marker.write_text(wanted)
    return python


def starting_schema(history: History, python: Path, project: Path) -> tuple[str, ...]:
    """The walk's --from-dump arguments for a history that starts from a schema its application creates."""
    if history.start is None:
        return ()
    schema = project / "start.sql"
    done = subprocess.run([str(python), str(FILES / history.start)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{history.start} failed:\n{done.stderr[-2000:]}")
    schema.write_text(done.stdout)
    return ("--from-dump", str(schema))


def copy_module(unpacked: Path, module: str, stubs: Path) -> None:
    """Copy one file of the wheel, with empty __init__.py files for its parent packages."""
    target = stubs / module
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(unpacked / module, target)
    for parent in Path(module).parents:
        if parent != Path(".") and not (stubs / parent / "__init__.py").exists():
            (stubs / parent / "__init__.py").touch()


def prepare(history: History, out: Path) -> Path:
    """The project dir of one history, made anew: returns its alembic.ini."""
    unpacked = fetch(history)
    project = out / history.name
    if project.exists():
        shutil.rmtree(project)
    project.mkdir(parents=True)
    shutil.copytree(
        unpacked / history.migrations / history.versions,
        project / "versions",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy2(FILES / history.env, project / "env.py")
    stubs = project / "stubs"
    stubs.mkdir()
    if history.stubs:
        shutil.copytree(FILES / "stubs" / history.stubs, stubs, dirs_exist_ok=True)
    for module in history.copied:
        copy_module(unpacked, module, stubs)
    ini = project / "alembic.ini"
    template = (FILES / "alembic.ini.template").read_text()
    ini.write_text(
        template.replace("{package}", history.package)
        .replace("{version}", history.version)
        .replace("{url}", history.url)
    )
    return ini


def tool_snapshot(ref: str) -> Path:
    """thirdai_platform as committed at ref (git archive: read-only), so a run does not see other helpers' edits."""
    resolved = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", ref], capture_output=True, text=True)
    if resolved.returncode != 0:
        raise SystemExit(f"error: {ref!r} is not a git revision of {REPO}")
    sha = resolved.stdout.strip()
    snapshot = CACHE / "tool" / sha
    if not (snapshot / "thirdai_platform").exists():
        snapshot.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", sha, "thirdai_platform"], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(snapshot)], input=archive, check=True)
    return snapshot


def by_name(name: str | None) -> tuple[History, ...]:
    """Every real history, or those named (NAME, or "repro" for all the reproductions)."""
    if name is None:
        return HISTORIES
    everything = HISTORIES + REPROS
    chosen = tuple(history for history in everything if name == history.name or name == history.package == "repro")
    if not chosen:
        raise SystemExit(f"error: no history {name!r}; there are {', '.join(h.name for h in everything)}, repro")
    return chosen
