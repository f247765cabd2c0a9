"""The Alembic history builds exactly the models, goes down and up again, and keeps data through each data migration."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from thirdai_platform.database.models import Base, Model, ModelAttribute, Status, User

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"

OWNER = "00000000-0000-4000-8000-00000000000a"
OTHER_OWNER = "00000000-0000-4000-8000-00000000000b"
UNICODE_TEXT = "Zoë's 東京 model ✓\nline two, 100% 'quoted' \"text\""


@pytest.fixture
def config(database_url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = make_url(database_url)
    config.attributes["quiet"] = True
    return config


@pytest.fixture
def engine(database_url: str):
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


def execute(engine: Engine, sql: str, rows: list[dict] | dict | None = None) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text(sql), rows)


def fetch(engine: Engine, sql: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql))]


def add_users(engine: Engine, with_email: bool = False) -> None:
    columns = "id, username, email" if with_email else "id, username"
    values = ":id, :username, :username || '@example.com'" if with_email else ":id, :username"
    execute(
        engine,
        f"INSERT INTO users ({columns}) VALUES ({values})",
        [{"id": OWNER, "username": "zoë-東京"}, {"id": OTHER_OWNER, "username": "other"}],
    )


def model_id(number: int) -> str:
    return f"00000000-0000-4000-8000-{number:012d}"


def model_row(number: int, name: str, user_id: str = OWNER, **columns) -> dict:
    return {"id": model_id(number), "name": name, "type": "ndb", "user_id": user_id, **columns}


def add_models(engine: Engine, rows: list[dict]) -> None:
    columns = list(rows[0])
    execute(
        engine,
        f"INSERT INTO models ({', '.join(columns)}) VALUES ({', '.join(':' + column for column in columns)})",
        rows,
    )


def public_tables(engine: Engine) -> set[str]:
    return {name for (name,) in fetch(engine, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def enum_labels(engine: Engine) -> dict[str, list[str]]:
    labels: dict[str, list[str]] = {}
    for type_name, label in fetch(
        engine,
        "SELECT t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
        "ORDER BY t.typname, e.enumsortorder",
    ):
        labels.setdefault(type_name, []).append(label)
    return labels


def test_head_matches_the_models(config: Config, engine: Engine) -> None:
    command.upgrade(config, "head")

    command.check(config)  # raises when autogenerate finds any difference
    head = ScriptDirectory.from_config(config).get_current_head()
    assert fetch(engine, "SELECT version_num FROM alembic_version") == [(head,)]
    assert public_tables(engine) == set(Base.metadata.tables) | {"alembic_version"}


def test_enum_labels_at_head_match_the_models(config: Config, engine: Engine) -> None:
    # `alembic check` does not compare enum labels, so compare them here.
    command.upgrade(config, "head")

    expected = {
        column.type.name: [member.name for member in column.type.enum_class]
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, sa.Enum)
    }
    assert enum_labels(engine) == expected


def test_models_read_and_write_at_head(config: Config, engine: Engine) -> None:
    command.upgrade(config, "head")

    with Session(engine) as session:
        user = User(username="zoë", email="zoe@example.com")
        session.add(user)
        session.flush()
        model = Model(name="ner-東京", type="udt", user_id=user.id, train_status=Status.in_progress)
        session.add(model)
        session.flush()
        session.add(ModelAttribute(model_id=model.id, key="description", value="✓"))
        session.commit()

    assert fetch(engine, "SELECT name, train_status::text, deploy_status::text, access_level::text FROM models") == [
        ("ner-東京", "in_progress", "not_started", "private")
    ]


def test_history_is_linear(config: Config) -> None:
    scripts = ScriptDirectory.from_config(config)
    revisions = list(scripts.walk_revisions())
    assert len(revisions) >= 8
    assert len(scripts.get_heads()) == 1
    assert all(not isinstance(revision.down_revision, (tuple, list)) for revision in revisions)


def test_down_to_base_and_up_again(config: Config, engine: Engine) -> None:
    command.upgrade(config, "head")
    command.downgrade(config, "base")

    assert public_tables(engine) == {"alembic_version"}
    assert enum_labels(engine) == {}

    command.upgrade(config, "head")
    command.check(config)


def test_whole_history_renders_as_sql_offline(config: Config) -> None:
    output = io.StringIO()
    offline = Config(str(ALEMBIC_INI), output_buffer=output)
    offline.attributes.update(config.attributes)

    command.upgrade(offline, "head", sql=True)

    sql = output.getvalue()
    for revision in ScriptDirectory.from_config(config).walk_revisions():
        assert f"-> {revision.revision}" in sql
    assert "CREATE TABLE password_resets" in sql


def test_running_status_becomes_in_progress_and_back(config: Config, engine: Engine) -> None:
    command.upgrade(config, "0004_catalog_job_messages")
    add_users(engine)
    add_models(
        engine,
        [
            model_row(1, "training", train_status="running", deploy_status="not_started"),
            model_row(2, "deploying", train_status="complete", deploy_status="running"),
            model_row(3, "failed", train_status="failed", deploy_status="stopped"),
        ],
    )
    statuses = "SELECT name, train_status::text, deploy_status::text FROM models ORDER BY name"

    command.upgrade(config, "0005_status_in_progress")
    assert fetch(engine, statuses) == [
        ("deploying", "complete", "in_progress"),
        ("failed", "failed", "stopped"),
        ("training", "in_progress", "not_started"),
    ]

    command.downgrade(config, "0004_catalog_job_messages")
    assert fetch(engine, statuses) == [
        ("deploying", "complete", "running"),
        ("failed", "failed", "stopped"),
        ("training", "running", "not_started"),
    ]
    assert enum_labels(engine)["job_status"] == ["not_started", "starting", "running", "stopped", "complete", "failed"]


def test_description_moves_into_attributes_and_back(config: Config, engine: Engine) -> None:
    command.upgrade(config, "0005_status_in_progress")
    add_users(engine)
    add_models(
        engine,
        [
            model_row(1, "none", description=None),
            model_row(2, "empty", description=""),
            model_row(3, "unicode", description=UNICODE_TEXT),
        ],
    )

    command.upgrade(config, "0006_model_attributes")
    attributes = (
        "SELECT m.name, a.key, a.value FROM model_attributes a JOIN models m ON m.id = a.model_id ORDER BY m.name"
    )
    assert fetch(engine, attributes) == [
        ("empty", "description", ""),
        ("unicode", "description", UNICODE_TEXT),
    ]
    # A description written after the upgrade must survive the downgrade too.
    add_models(engine, [model_row(4, "described-later")])
    execute(
        engine,
        "INSERT INTO model_attributes (model_id, key, value) VALUES (:id, 'description', 'später ✓')",
        {"id": model_id(4)},
    )

    command.downgrade(config, "0005_status_in_progress")
    assert fetch(engine, "SELECT name, description FROM models ORDER BY name") == [
        ("described-later", "später ✓"),
        ("empty", ""),
        ("none", None),
        ("unicode", UNICODE_TEXT),
    ]


def test_email_is_backfilled_from_the_username(config: Config, engine: Engine) -> None:
    command.upgrade(config, "0006_model_attributes")
    add_users(engine)

    command.upgrade(config, "0007_user_email")
    assert fetch(engine, "SELECT username, email FROM users ORDER BY username") == [
        ("other", "other@users.invalid"),
        ("zoë-東京", "zoë-東京@users.invalid"),
    ]
    with pytest.raises(IntegrityError):
        execute(engine, "INSERT INTO users (username) VALUES ('no-email')")

    command.downgrade(config, "0006_model_attributes")
    assert fetch(engine, "SELECT id::text, username FROM users ORDER BY username") == [
        (OTHER_OWNER, "other"),
        (OWNER, "zoë-東京"),
    ]


def test_duplicate_model_names_become_unique_and_come_back(config: Config, engine: Engine) -> None:
    command.upgrade(config, "0007_user_email")
    add_users(engine, with_email=True)
    own_suffix = "-dup-" + model_id(5)
    add_models(
        engine,
        [
            model_row(1, "twin", created_at="2024-01-02T00:00:00Z"),
            model_row(2, "twin", created_at="2024-01-01T00:00:00Z"),  # the oldest keeps its name
            model_row(3, "twin", created_at="2024-01-03T00:00:00Z"),
            model_row(4, "twin", user_id=OTHER_OWNER, created_at="2024-01-01T00:00:00Z"),
            model_row(5, "looks-renamed" + own_suffix, created_at="2024-01-01T00:00:00Z"),
        ],
    )
    names = "SELECT right(id::text, 1), name FROM models ORDER BY id"
    before = fetch(engine, names)

    command.upgrade(config, "0008_unique_model_names")
    assert fetch(engine, names) == [
        ("1", "twin-dup-" + model_id(1)),
        ("2", "twin"),
        ("3", "twin-dup-" + model_id(3)),
        ("4", "twin"),
        ("5", "looks-renamed" + own_suffix + own_suffix),
    ]
    with pytest.raises(IntegrityError):
        add_models(engine, [model_row(6, "twin")])

    command.downgrade(config, "0007_user_email")
    assert fetch(engine, names) == before


def test_catalog_labels_column_is_renamed_with_its_values(config: Config, engine: Engine) -> None:
    command.upgrade(config, "0008_unique_model_names")
    labels = ["PERSON", "städte 東京", ""]
    execute(engine, "INSERT INTO catalog (name, task, labels) VALUES ('ner', 'TOKEN', :labels)", {"labels": labels})

    command.upgrade(config, "0009_catalog_target_labels")
    assert fetch(engine, "SELECT target_labels FROM catalog") == [(labels,)]

    command.downgrade(config, "0008_unique_model_names")
    assert fetch(engine, "SELECT labels FROM catalog") == [(labels,)]


def test_many_rows_survive_a_round_trip_through_every_data_migration(config: Config, engine: Engine) -> None:
    command.upgrade(config, "0004_catalog_job_messages")
    execute(
        engine,
        "INSERT INTO users (username) SELECT 'user-' || n || '-ü' FROM generate_series(1, 50) AS n",
    )
    execute(
        engine,
        "INSERT INTO models (name, type, user_id, train_status, deploy_status, description) "
        "SELECT 'model-' || (n / 3), 'ndb', u.id, "
        "       (ARRAY['not_started', 'running', 'complete'])[1 + mod(n / 7, 3)]::job_status, "
        "       (ARRAY['running', 'failed'])[1 + mod(n / 5, 2)]::job_status, "
        "       CASE WHEN mod(n, 4) = 0 THEN NULL ELSE repeat('ö', n / 100) END "
        "FROM generate_series(1, 5000) AS n "
        "JOIN users u ON u.username = 'user-' || (1 + (n - 1) / 100) || '-ü'",
    )
    snapshot = "SELECT to_jsonb(t) FROM {} AS t ORDER BY id"
    users_before = fetch(engine, snapshot.format("users"))
    models_before = fetch(engine, snapshot.format("models"))
    assert len(models_before) == 5000

    command.upgrade(config, "head")
    command.downgrade(config, "0004_catalog_job_messages")

    assert fetch(engine, snapshot.format("users")) == users_before
    assert fetch(engine, snapshot.format("models")) == models_before
