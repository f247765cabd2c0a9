"""The one exception type that means "the user asked for something we refuse": shown as one line, never a traceback;
and the one way an error becomes that line."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in input or environment; its message is the whole story for the user."""


def first_line(text: object) -> str:
    """The first line of the text, stripped; "" when there is none."""
    lines = str(text).strip().splitlines()
    return lines[0] if lines else ""


def underlying(error: BaseException) -> BaseException:
    """The driver's own error a SQLAlchemy error wraps (its `orig`), else the error itself."""
    return getattr(error, "orig", None) or error


def message_line(error: BaseException) -> str:
    """The first line of the error's message (a database error's own); its type's name when it says nothing."""
    original = underlying(error)
    return first_line(original) or type(original).__name__


def one_line(error: BaseException) -> str:
    """'CompileError: Can't emit DROP CONSTRAINT ...': the type and the first line (a database error's own). A
    SyntaxError's place is left out of it: it is said apart (project_code.raised_at)."""
    original = underlying(error)
    line = first_line(original.msg if isinstance(original, SyntaxError) else original)
    return f"{type(original).__name__}: {line}" if line else type(original).__name__
