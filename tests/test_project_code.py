"""Where a project's migration code raised: the innermost frame in its own files, never code SQLAlchemy generates."""

import importlib.util
import logging
import logging.config

import pytest

from thirdai_platform.migrate.project_code import described, quiet_logging, raised_at

SCRIPT = """\
def upgrade():
    exec(compile("raise AttributeError('MockConnection has no close')", "<sqlalchemy generated _go() wrapper>", "exec"))
"""


def test_the_place_is_the_projects_own_line_not_generated_code(tmp_path, monkeypatch):
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "0001_x.py").write_text(SCRIPT)
    # run from the project's folder: a generated code's "<...>" name resolves inside it
    monkeypatch.chdir(versions)
    spec = importlib.util.spec_from_file_location("revision_0001_x", versions / "0001_x.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(AttributeError) as raised:
        module.upgrade()
    assert raised_at(raised.value, [versions]) == "0001_x.py line 2"
    assert described(raised.value, [versions]) == "AttributeError: MockConnection has no close (0001_x.py line 2)"
    assert raised_at(raised.value, [tmp_path / "elsewhere"]) is None


def test_info_logging_is_held_even_after_fileconfig(tmp_path, monkeypatch):
    monkeypatch.setattr(logging.getLogger("alembic"), "level", logging.getLogger("alembic").level)  # put back after
    ini = tmp_path / "logging.ini"
    ini.write_text(
        "[loggers]\nkeys = root,alembic\n[handlers]\nkeys =\n[formatters]\nkeys =\n"
        "[logger_root]\nlevel = WARNING\nhandlers =\n[logger_alembic]\nlevel = INFO\nhandlers =\nqualname = alembic\n"
    )
    with quiet_logging():
        logging.config.fileConfig(ini, disable_existing_loggers=False)
        assert not logging.getLogger("alembic.runtime.migration").isEnabledFor(logging.INFO)
        assert logging.getLogger("alembic.runtime.migration").isEnabledFor(logging.WARNING)
    assert logging.getLogger("alembic.runtime.migration").isEnabledFor(logging.INFO)  # restored after
