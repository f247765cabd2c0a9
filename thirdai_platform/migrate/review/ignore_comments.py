"""`# TOOL: ignore RULE -- reason` comments in a revision script: the review's (`# review: ignore ...`) and the SQL
lint's (`# squawk: ignore ...`), read from the script's tokens the same way (a `#` inside a string is no comment)."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass


@dataclass(frozen=True)
class IgnoreComment:
    line: int
    rule: str
    reason: str  # "" when the comment gives none


def ignore_comments(source: str, tool: str) -> list[IgnoreComment]:
    """The ignore comments for `tool` ("review", "squawk") in a script's source, in order."""
    if not re.search(rf"#\s*{re.escape(tool)}:\s*ignore", source):
        return []  # the common case, without tokenizing the whole script
    pattern = re.compile(rf"#\s*{re.escape(tool)}:\s*ignore\s+(?P<rule>[\w-]+)\s*(?:--\s*(?P<reason>.*))?$")
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and (match := pattern.search(token.string)):
            found.append(IgnoreComment(token.start[0], match["rule"], (match["reason"] or "").strip()))
    return found
