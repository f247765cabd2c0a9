"""A snapshot of one PostgreSQL schema read from pg_catalog, and the differences between two snapshots.

The migration walk snapshots the schema before an upgrade and after the downgrade that follows; every difference is
something the downgrade left behind or failed to restore.
"""
from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import asdict, dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

MISSING, UNEXPECTED, CHANGED = "missing", "unexpected", "changed"

# Report order. Objects of these kinds are named "<table>.<name>"; the rest by their own (schema-unique) name.
KINDS = ("extension", "table", "column", "column_order", "constraint", "index", "enum", "domain", "sequence",
         "view", "materialized_view", "trigger", "function")
TABLE_PARTS = ("column", "column_order", "constraint", "index", "trigger")

# Shared by both queries: the schema's own relations; alembic_version and objects of extensions are not ours.
_SCOPE = """
WITH target AS (SELECT oid FROM pg_namespace WHERE nspname = :schema),
relations AS (
    SELECT c.* FROM pg_class c
    WHERE c.relnamespace = (TABLE target) AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
      AND c.relname <> 'alembic_version'
      -- tableoid is the catalog a row lives in, as pg_depend.classid names it
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = c.tableoid AND d.objid = c.oid AND d.deptype = 'e')
      AND (:every_table OR c.relkind NOT IN ('r', 'p') OR c.relname = ANY(:tables))
),
tables AS (SELECT * FROM relations WHERE relkind IN ('r', 'p'))
"""

_SEQUENCE_OPTIONS = """format_type(s.seqtypid, NULL), 'START', s.seqstart, 'INCREMENT', s.seqincrement,
    'MINVALUE', s.seqmin, 'MAXVALUE', s.seqmax, 'CACHE', s.seqcache, CASE WHEN s.seqcycle THEN 'CYCLE' END"""

# Everything but columns, as (kind, name, description) rows, in one round trip.
_OBJECTS_SQL = (_SCOPE + """
SELECT 'extension', e.extname, 'version ' || e.extversion
FROM pg_extension e WHERE e.extnamespace = (TABLE target)
UNION ALL
SELECT 'table', t.relname, concat_ws(' ',
    CASE WHEN t.relpersistence = 'u' THEN 'UNLOGGED' END,
    CASE WHEN t.relkind = 'p' THEN 'PARTITION BY ' || pg_get_partkeydef(t.oid) END,
    (SELECT CASE WHEN t.relispartition THEN 'PARTITION OF ' ELSE 'INHERITS ' END
            || string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno)
     FROM pg_inherits i WHERE i.inhrelid = t.oid),
    pg_get_expr(t.relpartbound, t.oid),
    CASE WHEN t.relrowsecurity THEN 'ROW LEVEL SECURITY' END)
FROM tables t
UNION ALL
-- NOT NULL constraints (PostgreSQL 18+) are left out: nullability is part of the column
SELECT 'constraint', t.relname || '.' || con.conname, pg_get_constraintdef(con.oid)
FROM pg_constraint con JOIN tables t ON t.oid = con.conrelid
WHERE con.contype <> 'n'
UNION ALL
-- an index backing a primary key, unique or exclusion constraint is reported as that constraint
SELECT 'index', r.relname || '.' || ic.relname,
       pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END
FROM pg_index i JOIN relations r ON r.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE NOT EXISTS (SELECT FROM pg_constraint con
                  WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x'))
UNION ALL
SELECT 'enum', ty.typname,
       coalesce((SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder)::text FROM pg_enum e WHERE e.enumtypid = ty.oid), '[]')
FROM pg_type ty
WHERE ty.typnamespace = (TABLE target) AND ty.typtype = 'e' AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = ty.tableoid AND d.objid = ty.oid AND d.deptype = 'e')
UNION ALL
SELECT 'domain', ty.typname, concat_ws(' ',
    format_type(ty.typbasetype, ty.typtypmod),
    CASE WHEN ty.typnotnull THEN 'NOT NULL' END,
    'DEFAULT ' || pg_get_expr(ty.typdefaultbin, 0),
    (SELECT string_agg('CONSTRAINT ' || con.conname || ' ' || pg_get_constraintdef(con.oid), ' ' ORDER BY con.conname)
     FROM pg_constraint con WHERE con.contypid = ty.oid))
FROM pg_type ty
WHERE ty.typnamespace = (TABLE target) AND ty.typtype = 'd' AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = ty.tableoid AND d.objid = ty.oid AND d.deptype = 'e')
UNION ALL
-- identity sequences are left out: they belong to their column, which describes them
SELECT 'sequence', r.relname, concat_ws(' ', {SEQUENCE_OPTIONS},
    (SELECT 'OWNED BY ' || owner.relname || '.' || a.attname
     FROM pg_depend d
     JOIN pg_class owner ON owner.oid = d.refobjid
     JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
     WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
       AND d.deptype = 'a' AND d.refobjsubid > 0))
FROM relations r JOIN pg_sequence s ON s.seqrelid = r.oid
WHERE NOT EXISTS (SELECT FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid AND d.deptype = 'i')
UNION ALL
SELECT CASE r.relkind WHEN 'v' THEN 'view' ELSE 'materialized_view' END, r.relname, pg_get_viewdef(r.oid, true)
FROM relations r WHERE r.relkind IN ('v', 'm')
UNION ALL
SELECT 'trigger', r.relname || '.' || tg.tgname,
       pg_get_triggerdef(tg.oid, true) || CASE tg.tgenabled WHEN 'O' THEN '' WHEN 'D' THEN ' DISABLED'
                                                             WHEN 'R' THEN ' ENABLE REPLICA' ELSE ' ENABLE ALWAYS' END
FROM pg_trigger tg JOIN relations r ON r.oid = tg.tgrelid
WHERE NOT tg.tgisinternal
UNION ALL
SELECT 'function', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       CASE WHEN p.prokind = 'a' THEN 'AGGREGATE RETURNS ' || format_type(p.prorettype, NULL)
            ELSE pg_get_functiondef(p.oid) END
FROM pg_proc p
WHERE p.pronamespace = (TABLE target) AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = p.tableoid AND d.objid = p.oid AND d.deptype = 'e')
ORDER BY 1, 2
""".replace("{SEQUENCE_OPTIONS}", _SEQUENCE_OPTIONS))

# Columns of every table in order, each with its place in the primary key (NULL when not part of it).
_COLUMNS_SQL = (_SCOPE + """
SELECT t.relname AS table_name, a.attname AS column_name,
    concat_ws(' ',
        format_type(a.atttypid, a.atttypmod),
        CASE WHEN a.attcollation <> ty.typcollation THEN 'COLLATE ' || quote_ident(co.collname) END,
        CASE WHEN a.attnotnull THEN 'NOT NULL' ELSE 'NULL' END,
        CASE a.attgenerated WHEN 's' THEN 'GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED'
                            WHEN 'v' THEN 'GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') VIRTUAL'
                            ELSE 'DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) END,
        CASE a.attidentity WHEN 'a' THEN 'GENERATED ALWAYS AS IDENTITY' WHEN 'd' THEN 'GENERATED BY DEFAULT AS IDENTITY' END,
        CASE WHEN a.attidentity <> '' THEN
            (SELECT '(' || concat_ws(' ', {SEQUENCE_OPTIONS}) || ')'
             FROM pg_depend dep JOIN pg_sequence s ON s.seqrelid = dep.objid
             WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass
               AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum AND dep.deptype = 'i')
        END
    ) AS description,
    array_position(pk.conkey, a.attnum) AS key_position
FROM tables t
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type ty ON ty.oid = a.atttypid
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_constraint pk ON pk.conrelid = t.oid AND pk.contype = 'p'
ORDER BY t.relname, a.attnum
""".replace("{SEQUENCE_OPTIONS}", _SEQUENCE_OPTIONS))


@dataclass(frozen=True)
class SchemaSnapshot:
    """What a schema contains; compare two with compare_schemas. Plain dicts and lists: treat them as read-only."""

    objects: dict[str, dict[str, str]]  # kind → object name → description (e.g. "column" → "users.email" → "text NULL")
    columns: dict[str, list[str]]  # table → its column names in table order
    primary_key_columns: dict[str, list[str]]  # table → primary key columns in key order, [] without one

    def to_json(self) -> dict:
        """A deep copy made of dicts, lists and strings only, ready for json.dumps."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> SchemaSnapshot:
        return cls(objects=data["objects"], columns=data["columns"], primary_key_columns=data["primary_key_columns"])


@dataclass(frozen=True)
class SchemaDifference:
    kind: str  # one of KINDS
    name: str  # e.g. "users.email"
    change: str  # MISSING, UNEXPECTED or CHANGED
    before: str | None  # description before, None when it did not exist
    after: str | None  # description after, None when it no longer exists

    def __str__(self) -> str:
        if self.change == MISSING:
            return f"{self.kind} {self.name} missing{_detail(self.before)}"
        if self.change == UNEXPECTED:
            return f"{self.kind} {self.name} left behind{_detail(self.after)}"
        before, after = _excerpts(self.before or "", self.after or "")
        if self.kind == "column_order":
            return f"column order of {self.name} changed: {before} → {after}"
        what = "labels changed" if self.kind == "enum" else "changed"
        return f"{self.kind} {self.name} {what}: {before} → {after}"


def schema_snapshot(connection: Connection, schema: str = "public", tables: Collection[str] | None = None) -> SchemaSnapshot:
    """Read the schema's tables, columns, constraints, indexes, types, sequences, views, triggers and functions.

    With `tables`, only those tables and their parts are read (the other kinds of object always are): the cost then
    follows the tables a migration acts on, not the size of the schema."""
    parameters = {"schema": schema, "every_table": tables is None, "tables": sorted(tables or [])}
    objects: dict[str, dict[str, str]] = {kind: {} for kind in KINDS if kind != "column_order"}
    for kind, name, description in _prepared(connection, "objects", _OBJECTS_SQL, parameters):
        objects[kind][name] = description
    columns: dict[str, list[str]] = {table: [] for table in sorted(objects["table"])}
    key_positions: dict[str, dict[str, int]] = {table: {} for table in columns}
    for row in _prepared(connection, "columns", _COLUMNS_SQL, parameters):
        objects["column"][f"{row.table_name}.{row.column_name}"] = row.description
        columns[row.table_name].append(row.column_name)
        if row.key_position is not None:
            key_positions[row.table_name][row.column_name] = row.key_position
    primary_key_columns = {table: sorted(positions, key=positions.__getitem__) for table, positions in key_positions.items()}
    return SchemaSnapshot(objects=objects, columns=columns, primary_key_columns=primary_key_columns)


def _prepared(connection: Connection, name: str, query: str, parameters: dict):
    """Run one of our catalog queries as a prepared statement: planning them costs more than running them, and the
    walk runs them a few times per revision on one connection."""
    statement = f"schema_snapshot_{name}"
    prepared = connection.info.setdefault("prepared_statements", set())
    if statement not in prepared:
        positional = query.replace(":schema", "$1").replace(":every_table", "$2").replace(":tables", "$3")
        connection.execute(text(f"PREPARE {statement}(name, boolean, text[]) AS {positional}"))
        prepared.add(statement)
    return connection.execute(text(f"EXECUTE {statement}(:schema, :every_table, :tables)"), parameters)


def column_type(description: str) -> str:
    """The type part of a column's description: "character varying(50) NOT NULL DEFAULT ..." → "character varying(50)"."""
    return description.split(" NOT NULL")[0].split(" NULL")[0]


def column_type_name(description: str) -> str:
    """The name of the column's type as pg_type spells it, arrays included: "job_status[] NULL" → "job_status"."""
    return column_type(description).removesuffix("[]").strip('"')


def _table_of(kind: str, name: str) -> str | None:
    return name if kind == "table" else name.split(".")[0] if kind in TABLE_PARTS else None


def restricted(snapshot: SchemaSnapshot, tables: Collection[str]) -> SchemaSnapshot:
    """The snapshot as schema_snapshot(..., tables=tables) reads it: other tables and their parts left out."""
    tables = set(tables)
    objects = {kind: {name: description for name, description in named.items()
                      if _table_of(kind, name) in tables or _table_of(kind, name) is None}
               for kind, named in snapshot.objects.items()}
    return SchemaSnapshot(objects=objects,
                          columns={t: c for t, c in snapshot.columns.items() if t in tables},
                          primary_key_columns={t: c for t, c in snapshot.primary_key_columns.items() if t in tables})


def merged(base: SchemaSnapshot, update: SchemaSnapshot, tables: Collection[str]) -> SchemaSnapshot:
    """`base` with what `update` read: the given tables and every object that is not part of a table."""
    tables = set(tables)
    objects = {kind: {**{name: description for name, description in named.items()
                         if _table_of(kind, name) not in tables and _table_of(kind, name) is not None},
                      **update.objects.get(kind, {})}
               for kind, named in base.objects.items()}
    columns = {**{t: c for t, c in base.columns.items() if t not in tables}, **update.columns}
    keys = {**{t: c for t, c in base.primary_key_columns.items() if t not in tables}, **update.primary_key_columns}
    return SchemaSnapshot(objects=objects, columns=dict(sorted(columns.items())), primary_key_columns=keys)


def table_columns(snapshot: SchemaSnapshot) -> dict[str, list[str]]:
    """Table → its column names in table order."""
    return {table: list(names) for table, names in snapshot.columns.items()}


def primary_keys(snapshot: SchemaSnapshot) -> dict[str, list[str]]:
    """Table → its primary key columns in key order, [] for a table without one."""
    return {table: list(names) for table, names in snapshot.primary_key_columns.items()}


def compare_schemas(before: SchemaSnapshot, after: SchemaSnapshot) -> list[SchemaDifference]:
    """Everything that differs, in KINDS order; a missing or left-behind table is reported without its parts."""
    differences = []
    for kind in KINDS:
        if kind == "column_order":
            differences += _column_order_changes(before, after)
            continue
        old, new = before.objects.get(kind, {}), after.objects.get(kind, {})
        for name in sorted(old.keys() | new.keys()):
            if old.get(name) != new.get(name):
                change = MISSING if name not in new else UNEXPECTED if name not in old else CHANGED
                differences.append(SchemaDifference(kind, name, change, old.get(name), new.get(name)))
    absent_tables = {d.name for d in differences if d.kind == "table" and d.change != CHANGED}
    return [d for d in differences
            if not (d.kind in TABLE_PARTS and any(d.name.startswith(f"{table}.") for table in absent_tables))]


def _column_order_changes(before: SchemaSnapshot, after: SchemaSnapshot) -> list[SchemaDifference]:
    # Only the relative order of columns both sides have: an added or dropped column is reported as a column.
    changes = []
    for table in sorted(before.columns.keys() & after.columns.keys()):
        old, new = before.columns[table], after.columns[table]
        shared = set(old) & set(new)
        if [c for c in old if c in shared] != [c for c in new if c in shared]:
            changes.append(SchemaDifference("column_order", table, CHANGED, ", ".join(old), ", ".join(new)))
    return changes


def _one_line(description: str) -> str:
    return re.sub(r"\s+", " ", description).strip()


def _detail(description: str | None, limit: int = 100) -> str:
    line = _one_line(description or "")
    if not line:
        return ""
    return f": {line if len(line) <= limit else line[:limit] + '…'}"


def _excerpts(before: str, after: str, limit: int = 100) -> tuple[str, str]:
    """Both texts on one line; when long, cut to the region around where they start to differ."""
    before, after = _one_line(before), _one_line(after)
    if max(len(before), len(after)) <= limit:
        return before, after
    same = next((i for i, (a, b) in enumerate(zip(before, after)) if a != b), min(len(before), len(after)))
    start = max(0, same - 20)

    def cut(line: str) -> str:
        return ("…" if start else "") + line[start:start + limit] + ("…" if len(line) > start + limit else "")

    return cut(before), cut(after)
