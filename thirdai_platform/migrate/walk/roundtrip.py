"""What one revision's round trip recorded for its checks (checks/): its declarations, the legs' time windows,
the copies and snapshots the walk took, and what the checks learnt on the way (a RoundTrip)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from alembic.script import Script
from sqlalchemy.engine import Connection

from thirdai_platform.migrate.data_loss import declared_entries
from thirdai_platform.migrate.findings import FAILURE, Finding
from thirdai_platform.migrate.walk.data import DataCopies
from thirdai_platform.migrate.walk.schema import SchemaSnapshot, column_type

UPGRADE, DOWNGRADE, UPGRADE_AGAIN = "upgrade", "downgrade", "upgrade again"
LEGS = (UPGRADE, DOWNGRADE, UPGRADE_AGAIN)
# PostgreSQL's now() is the start of the migration's transaction, its clock the machine's: a little slack either way.
CLOCK_SLACK = timedelta(seconds=1)


class Declared:
    """What a revision says it loses on purpose: `data_loss = {"upgrade": ["table", "table.column"], ...}`.

    A loss counts only for its direction; data a downgrade loses is also missing after the upgrade that follows."""

    def __init__(self, script: Script | None, direction: str):
        """Raises ValueError when the script's data_loss has another shape; a script None declares nothing."""
        self.entries = declared_entries(getattr(getattr(script, "module", None), "data_loss", None), direction)

    @classmethod
    def nothing(cls, direction: str) -> Declared:
        """Declares no loss: what a script whose data_loss is malformed is held to."""
        return cls(None, direction)

    def covers(self, table: str, column: str | None = None) -> bool:
        return table in self.entries or (column is not None and f"{table}.{column}" in self.entries)


@dataclass(frozen=True)
class Window:
    """When a leg ran: a value stamped by its migration with the current time falls inside."""

    start: datetime
    end: datetime

    @classmethod
    def starting_now(cls) -> Window:
        now = datetime.now(timezone.utc)
        return cls(now, now)

    def ended(self) -> Window:
        return Window(self.start, datetime.now(timezone.utc))

    def widened(self) -> Window:
        return Window(self.start - CLOCK_SLACK, self.end + CLOCK_SLACK)


@dataclass
class RoundTrip:
    """What one revision's walk recorded so far: the checks read it, the walk fills it in leg by leg."""

    connection: Connection
    revision: str
    lost_on_upgrade: Declared
    lost_on_downgrade: Declared
    parent: SchemaSnapshot  # the parent's schema, as far as the revision's scope reaches
    before: DataCopies | None = None  # the data at the parent, before the upgrade
    at_revision: SchemaSnapshot | None = None
    after_upgrade: DataCopies | None = None
    written: DataCopies | None = None  # after rows were written at the revision
    touched: set[str] = field(default_factory=set)  # tables the upgrade changed in schema or data
    windows: dict[str, Window] = field(default_factory=dict)  # leg → when it ran
    differing_after_downgrade: set[str] = field(default_factory=set)  # tables the downgrade check found changed
    stamped_by_upgrade: set[tuple[str, str]] = field(default_factory=set)  # (table, column) set to the current time
    # "table" / "table.column" whose loss the upgrade check reported: the downgrade cannot bring them back, and
    # saying so again would count one loss twice
    reported_lost: set[str] = field(default_factory=set)

    def lost_either_way(self, table: str, column: str | None = None) -> bool:
        """Back at the parent, what the upgrade lost is as gone as what the downgrade lost."""
        return (
            self.lost_on_upgrade.covers(table, column)
            or self.lost_on_downgrade.covers(table, column)
            or table in self.reported_lost
            or f"{table}.{column}" in self.reported_lost
        )

    def written_here(self, table: str) -> int:
        """How many rows were written into the table at the revision."""
        return self.written.tables[table].count - self.after_upgrade.tables[table].count

    def finding(self, leg: str, message: str, severity: str = FAILURE, **where) -> Finding:
        return Finding(self.revision, leg, severity, message, **where)


def type_of(schema: SchemaSnapshot, table: str, column: str) -> str:
    return column_type(schema.objects["column"][f"{table}.{column}"])
