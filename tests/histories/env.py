"""The one env.py every planted history shares: its alembic.ini sets version_locations to the history's own
versions/ folder (and to a shared first revision in common/, if it starts from one), and target_metadata comes from
the models.py next to that alembic.ini."""
import importlib.util
from pathlib import Path

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config


def history_metadata():
    models = Path(config.config_file_name).parent / "models.py"
    spec = importlib.util.spec_from_file_location(f"history_models_{models.parent.name}", models)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.metadata


def run_with(connection) -> None:
    context.configure(connection=connection, target_metadata=history_metadata(), compare_type=True,
                      transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        run_with(connection)
        connection.commit()
