"""Alembic environment of thirdai_platform: models as target metadata, URL from DATABASE_URI, one lock per run."""

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import text

from thirdai_platform.database.connection import engine_for
from thirdai_platform.database.models import Base
from thirdai_platform.database.url import ENV_VAR, database_url
from thirdai_platform.migrate.commands.lock import migration_lock

config = context.config
target_metadata = Base.metadata

if config.config_file_name and not config.attributes.get("quiet"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# The same options online and offline, so `--sql` shows exactly what an upgrade runs.
OPTIONS = dict(
    target_metadata=target_metadata,
    compare_type=True,
    transaction_per_migration=True,  # a failing revision leaves nothing of itself applied
)

# Fail fast instead of queueing behind the application's traffic (and blocking it meanwhile). Set only once the
# advisory lock is held: lock_timeout also bounds waiting for that lock.
TIMEOUTS = ("SET lock_timeout = '10s'", "SET statement_timeout = '30min'")


def configured_url():
    # Callers of the Python API hand over an already parsed URL; otherwise DATABASE_URI decides.
    return config.attributes.get("url") or database_url()


def run_migrations_offline() -> None:
    # Rendering SQL needs only the dialect, so `--sql` works without any database configured.
    target = (
        {"url": configured_url()}
        if config.attributes.get("url") or os.environ.get(ENV_VAR)
        else {"dialect_name": "postgresql"}
    )
    context.configure(literal_binds=True, dialect_opts={"paramstyle": "named"}, **target, **OPTIONS)
    with context.begin_transaction():
        for statement in TIMEOUTS:
            context.execute(statement)
        context.run_migrations()


def run_with(connection) -> None:
    for statement in TIMEOUTS:
        connection.execute(text(statement))
    connection.commit()  # leave no transaction open: Alembic must run its own, one per migration
    context.configure(connection=connection, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # the caller owns the connection, its transaction and its locking
        run_with(connection)
        return
    with engine_for(configured_url()).connect() as connection, migration_lock(connection):
        run_with(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
