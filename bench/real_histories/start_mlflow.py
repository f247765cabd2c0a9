"""Print, as plain SQL, the schema mlflow creates before its first revision (its initial models, created with
create_all by mlflow's own `_initialize_tables`): the starting point its history assumes, given to the walk as
--from-dump."""
from sqlalchemy import create_mock_engine

from mlflow.store.tracking.dbmodels.initial_models import Base


def main() -> None:
    engine = create_mock_engine("postgresql+psycopg2://", lambda statement, *args, **kwargs: print(
        f"{str(statement.compile(dialect=engine.dialect)).strip()};"))
    Base.metadata.create_all(engine, checkfirst=False)


if __name__ == "__main__":
    main()
