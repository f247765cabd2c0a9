"""The thirdai_platform tables as SQLAlchemy models. alembic/versions must build exactly this schema."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so a migration can refer to a constraint by a name it can predict.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class Role(enum.Enum):
    user = "user"
    team_admin = "team_admin"
    global_admin = "global_admin"


class Status(enum.Enum):
    """Progress of a model's training or deployment job."""

    not_started = "not_started"
    starting = "starting"
    in_progress = "in_progress"
    stopped = "stopped"
    complete = "complete"
    failed = "failed"


class Access(enum.Enum):
    private = "private"
    protected = "protected"
    public = "public"


class Permission(enum.Enum):
    read = "read"
    write = "write"


class CatalogTask(enum.Enum):
    TEXT = "TEXT"
    TOKEN = "TOKEN"


class MessageLevel(enum.Enum):
    warning = "warning"
    error = "error"


class IntegrationType(enum.Enum):
    openai = "openai"
    self_hosted = "self_hosted"
    anthropic = "anthropic"
    cohere = "cohere"


# One PostgreSQL type per enum; train_status and deploy_status share job_status,
# default_permission and model_permissions.permission share permission.
ROLE = sa.Enum(Role, name="team_role")
STATUS = sa.Enum(Status, name="job_status")
ACCESS = sa.Enum(Access, name="access_level")
PERMISSION = sa.Enum(Permission, name="permission")
CATALOG_TASK = sa.Enum(CatalogTask, name="catalog_task")
MESSAGE_LEVEL = sa.Enum(MessageLevel, name="message_level")
INTEGRATION_TYPE = sa.Enum(IntegrationType, name="integration_type")


def uuid_primary_key() -> Mapped[uuid.UUID]:
    return mapped_column(sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()"))


def creation_time() -> Mapped[datetime]:
    return mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    created_at: Mapped[datetime] = creation_time()


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    username: Mapped[str] = mapped_column(sa.String(50), unique=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    # NULL when the user signs in through an identity provider.
    password_hash: Mapped[str | None] = mapped_column(sa.String)
    is_verified: Mapped[bool] = mapped_column(server_default=sa.false())
    created_at: Mapped[datetime] = creation_time()


class UserTeam(Base):
    __tablename__ = "user_teams"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[Role] = mapped_column(ROLE, server_default=Role.user.value)


class Model(Base):
    __tablename__ = "models"
    __table_args__ = (sa.UniqueConstraint("user_id", "name"),)

    id: Mapped[uuid.UUID] = uuid_primary_key()
    name: Mapped[str] = mapped_column(sa.String)
    type: Mapped[str] = mapped_column(sa.String(256))
    sub_type: Mapped[str | None] = mapped_column(sa.String(256))
    train_status: Mapped[Status] = mapped_column(STATUS, server_default=Status.not_started.value, index=True)
    deploy_status: Mapped[Status] = mapped_column(STATUS, server_default=Status.not_started.value)
    access_level: Mapped[Access] = mapped_column(ACCESS, server_default=Access.private.value)
    default_permission: Mapped[Permission] = mapped_column(PERMISSION, server_default=Permission.read.value)
    domain: Mapped[str | None] = mapped_column(sa.String)
    published_date: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    options: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # The base model this one was trained from; it outlives the deletion of its parent.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("models.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    team_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = creation_time()


class ModelAttribute(Base):
    """Free-form key/value facts about a model, such as its description."""

    __tablename__ = "model_attributes"

    model_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)


class ModelPermission(Base):
    """A user's explicit permission on a model, overriding the model's default."""

    __tablename__ = "model_permissions"

    model_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    permission: Mapped[Permission] = mapped_column(PERMISSION)


class ModelDependency(Base):
    """model_id needs dependency_id to run (e.g. a guardrail model of a RAG pipeline)."""

    __tablename__ = "model_dependencies"

    model_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    dependency_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("models.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ModelMetadata(Base):
    # The attribute name "metadata" is reserved by declarative classes; only the table is called so.
    __tablename__ = "metadata"

    model_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    general: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    train: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class CatalogEntry(Base):
    """A model template offered for data generation, with the labels it predicts."""

    __tablename__ = "catalog"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    name: Mapped[str] = mapped_column(sa.String(100))
    task: Mapped[CatalogTask] = mapped_column(CATALOG_TASK)
    num_generated_samples: Mapped[int | None]
    target_labels: Mapped[list[str]] = mapped_column(ARRAY(sa.String))


class JobMessage(Base):
    """A warning or error reported by a model's training or deployment job."""

    __tablename__ = "job_messages"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    model_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("models.id", ondelete="CASCADE"), index=True)
    job_type: Mapped[str] = mapped_column(sa.String(50))
    level: Mapped[MessageLevel] = mapped_column(MESSAGE_LEVEL)
    message: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = creation_time()


class Integration(Base):
    """Credentials and settings of an external LLM endpoint (several self-hosted ones may exist)."""

    __tablename__ = "integrations"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    type: Mapped[IntegrationType] = mapped_column(INTEGRATION_TYPE)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)


class PasswordReset(Base):
    """A pending password reset; only a hash of the emailed code is stored."""

    __tablename__ = "password_resets"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = creation_time()
