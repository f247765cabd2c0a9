"""The one exception type that means "the user asked for something we refuse": shown as one line, never a traceback."""


class UserError(Exception):
    """A mistake in input or environment; its message is the whole story for the user."""
