"""What the `inv db.*` tasks say, in sentences: review findings, several heads, and none of Alembic's set-up chatter
(`Context impl PostgresqlImpl.`, `Will assume transactional DDL.`, `setting up autogenerate plugin ...`). Alembic's
progress (`Running upgrade A -> B`) and autogenerate's `Detected ...` lines stay: they say what happens."""

from __future__ import annotations

import logging
from pathlib import Path

from thirdai_platform.errors import UserError

CHATTER = ("Context impl ", "Will assume ", "Generating static SQL", "setting up autogenerate plugin", "setup plugin")
CHATTERING_LOGGERS = ("alembic.runtime.migration", "alembic.runtime.plugins")
# What Alembic raises when a command is given `head` and the history has several.
SEVERAL_HEADS = ("Multiple head revisions are present", "Multiple heads are present")


class DropChatter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(CHATTER)


def quiet_alembic_chatter() -> None:
    """A filter on the loggers that chatter: env.py's fileConfig replaces handlers and levels at every run, never a
    logger's filters."""
    for name in CHATTERING_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropChatter) for f in logger.filters):
            logger.addFilter(DropChatter())


def several_heads(heads: tuple[str, ...] | list[str]) -> UserError:
    return UserError(f"the history has {len(heads)} heads ({', '.join(heads)}); join them first with `inv db.merge`")


def is_several_heads(message: str) -> bool:
    return message.startswith(SEVERAL_HEADS)


def review_sentence(found) -> str:
    """A review.ReviewFinding as a line: 'error at line 13 of x.py: upgrade() drops ... (drop-without-data-move)'."""
    return f"{found.severity} at line {found.line} of {Path(found.path).name}: {found.message} ({found.rule})"


def failed_statement(error: BaseException, limit: int = 300) -> str:
    """' while running: ALTER TABLE ...': the statement a database error came from, on one line, cut at a word."""
    statement = " ".join(str(getattr(error, "statement", None) or "").split())
    if not statement:
        return ""
    if len(statement) > limit:
        statement = statement[:limit].rsplit(" ", 1)[0] + " …"
    return f" while running: {statement}"
