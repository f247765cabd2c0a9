"""The loss a revision script declares on purpose: `data_loss = {"upgrade": ["table", "table.column"], ...}`.

One rule for both readers: the walk reads the value of the imported module (roundtrip.Declared), the static review
reads the script's syntax tree without running it (review), so the review knows the value only when it is written as
a literal, and says so when it is computed.
"""

from __future__ import annotations

DIRECTIONS = ("upgrade", "downgrade")


def declared_entries(declared: object, direction: str) -> set[str]:
    """The "table" / "table.column" entries `declared` (data_loss's value; None when there is none) declares lost in
    `direction`. ValueError, saying the shape expected, for any other shape."""
    declared = declared or {}
    entries = declared.get(direction) or [] if isinstance(declared, dict) else None
    try:
        if entries is not None and not isinstance(entries, str) and all(isinstance(e, str) for e in entries):
            return set(entries)
    except TypeError:  # not iterable
        pass
    raise ValueError(f'data_loss must look like {{"{direction}": ["table", "table.column"]}}, not {declared!r:.120}')
