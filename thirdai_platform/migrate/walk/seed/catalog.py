"""The tables of the database as the seeder needs them, read from pg_catalog in one round trip."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from thirdai_platform.migrate.walk.schema import USER_OIDS, catalog_query
from thirdai_platform.migrate.walk.seed.domain import Check, Domain
from thirdai_platform.migrate.walk.values import PgType, scalar_type

# ---- the schema, from pg_catalog


@dataclass
class Column:
    name: str
    sql_type: str  # as format_type() spells it, for casts
    type: PgType | None  # None: a type we cannot generate values for
    nullable: bool
    has_default: bool
    filled_by_database: bool  # identity, serial (nextval default) or generated column


@dataclass
class ForeignKey:
    name: str
    table: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]


@dataclass
class Table:
    name: str
    columns: dict[str, Column]
    unique_keys: list[tuple[str, ...]] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    domains: dict[str, Domain] = field(default_factory=dict)  # what the CHECKs leave each column

    @property
    def check_columns(self) -> set[str]:
        return {name for check in self.checks for name in check.columns}

    def can_be_null(self, key: ForeignKey) -> bool:
        return all(self.columns[name].nullable for name in key.columns)


def column_names(relation: str, numbers: str) -> str:
    """SQL for the names of the columns listed by number in an int2 array, in that order."""
    return f"""ARRAY(SELECT a.attname::text FROM unnest({numbers}) WITH ORDINALITY k(num, pos)
                     JOIN pg_attribute a ON a.attrelid = {relation} AND a.attnum = k.num ORDER BY k.pos)"""


# What the filler needs to know of the tables, in one round trip: four JSON arrays, of
#   types: the columns' types and the element and base types behind arrays and domains, enums with their labels,
#          domains with their CHECKs;
#   columns: [table, column, type oid, typmod, type as SQL, NOT NULL, filled by the database, has a default];
#   constraints: [table, name, kind, columns, parent table, parent columns, definition (of CHECKs only)];
#   unique_indexes: [table, columns, expressions] of unique indexes made without a constraint, in creation order
#   (expressions: the text of the expression parts, or NULL; a partial index counts as a plain one).
# The tables are those of the schema, all or those named; partitions are filled through their parent. Oids are
# cast to int8, which JSON gives as numbers.
SCHEMA_SQL = f"""
    WITH RECURSIVE tables AS (
        SELECT c.oid, c.relname FROM pg_class c
        WHERE c.oid >= {USER_OIDS} AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = :schema)
          AND c.relkind IN ('r', 'p')
          AND NOT c.relispartition AND c.relname <> 'alembic_version' AND (:every_table OR c.relname = ANY(:tables))
    ),
    columns AS (
        SELECT t.relname, a.attname, a.attnum, a.atttypid, a.atttypmod, format_type(a.atttypid, a.atttypmod) AS sql_type,
               a.attnotnull, a.attidentity <> '' OR a.attgenerated <> ''
                   OR coalesce(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%' AS filled_by_database,
               d.adbin IS NOT NULL AS has_default
        FROM pg_attribute a JOIN tables t ON t.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        -- = ANY(ARRAY(...)): read table by table through pg_attribute's index, where a join may scan all of it
        WHERE a.attrelid = ANY(ARRAY(SELECT oid FROM tables)) AND a.attnum > 0 AND NOT a.attisdropped
    ),
    used(oid) AS (
        SELECT atttypid FROM columns
        UNION
        SELECT behind FROM pg_type ty JOIN used ON ty.oid = used.oid, unnest(ARRAY[ty.typelem, ty.typbasetype]) AS behind
        WHERE behind <> 0
    )
    SELECT
        (SELECT coalesce(json_agg(ty), '[]') FROM (
            SELECT oid::int8 AS oid, typname, typtype, typcategory, typelem::int8 AS typelem,
                   typbasetype::int8 AS typbasetype, typtypmod, typnotnull,
                   ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = pg_type.oid
                         ORDER BY e.enumsortorder) AS labels,
                   (SELECT coalesce(json_agg(json_build_array(con.conname, pg_get_constraintdef(con.oid))), '[]')
                    FROM pg_constraint con WHERE con.contypid = pg_type.oid AND con.contype = 'c') AS checks
            FROM pg_type WHERE oid = ANY(ARRAY(SELECT oid FROM used))) ty) AS types,
        (SELECT coalesce(json_agg(json_build_array(relname, attname, atttypid::int8, atttypmod, sql_type, attnotnull,
                                                   filled_by_database, has_default)
                                  ORDER BY relname, attnum), '[]')
         FROM columns) AS columns,
        (SELECT coalesce(json_agg(json_build_array(t.relname, con.conname, con.contype,
                                                   {column_names("con.conrelid", "con.conkey")},
                                                   parent.relname, {column_names("con.confrelid", "con.confkey")},
                                                   -- pg_get_constraintdef costs catalog look-ups: only CHECKs need it
                                                   CASE WHEN con.contype = 'c' THEN pg_get_constraintdef(con.oid) END)
                                  ORDER BY t.relname, con.conname), '[]')
         FROM tables t JOIN pg_constraint con ON con.conrelid = t.oid
         LEFT JOIN pg_class parent ON parent.oid = con.confrelid
         WHERE con.contype IN ('p', 'u', 'f', 'c')) AS constraints,
        (SELECT coalesce(json_agg(json_build_array(t.relname, {column_names("i.indrelid", "i.indkey::int2[]")},
                                                   pg_get_expr(i.indexprs, i.indrelid))
                                  ORDER BY t.relname, i.indexrelid), '[]')
         FROM tables t JOIN pg_index i ON i.indrelid = t.oid
         -- left out when it backs a constraint of its own table (read above); a foreign key pointing at it does not count
         WHERE i.indisunique AND NOT EXISTS (SELECT FROM pg_constraint con WHERE con.conindid = i.indexrelid
                                             AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u')))
         AS unique_indexes"""


def read_schema(connection: Connection, names: set[str] | None = None) -> dict[str, Table]:
    """The tables of schema public (only those named, when names are given) as the filler needs them."""
    type_rows, columns, constraints, unique_indexes = catalog_query(
        connection, "seed_schema", SCHEMA_SQL, "public", names
    ).one()
    types = {row["oid"]: row for row in type_rows}
    tables: dict[str, Table] = {}
    for name, column_name, type_oid, typmod, sql_type, not_null, by_database, has_default in columns:
        pg_type, domain_not_null = resolve_type(types, type_oid, typmod)
        table = tables.setdefault(name, Table(name, {}))
        table.columns[column_name] = Column(
            column_name, sql_type, pg_type, not (not_null or domain_not_null), has_default, by_database
        )
        for constraint, definition in domain_checks(types, type_oid):
            table.checks.append(
                read_check(constraint, on_column(definition, column_name), (column_name,), table.domains)
            )
    for name, constraint, kind, columns, parent, parent_columns, definition in constraints:
        table = tables.get(name)
        if table is None:
            continue
        if kind in ("p", "u"):
            table.unique_keys.append(tuple(columns))
        elif kind == "f":
            table.foreign_keys.append(ForeignKey(constraint, name, tuple(columns), parent, tuple(parent_columns)))
        else:
            table.checks.append(read_check(constraint, definition, tuple(columns), table.domains))
    for name, columns, expressions in unique_indexes:
        if name in tables:
            add_unique_index(tables[name], columns, expressions)
    return tables


def read_check(name: str, definition: str, columns: tuple[str, ...], domains: dict[str, Domain]) -> Check:
    # The SQL parser (pglast) takes a few hundred ms to import: only a schema with CHECKs pays for it.
    from thirdai_platform.migrate.walk.seed.checks import read_check as parse_and_read

    return parse_and_read(name, definition, columns, domains)


def add_unique_index(table: Table, columns: list[str], expressions: str | None) -> None:
    """A unique index's key. One on expressions, e.g. (tenant_id, lower(email)), is kept by values unique in
    every column the expressions read, as the seeder cannot compute the expressions."""
    read = [
        name
        for name in table.columns
        if expressions
        and re.search(
            rf'(?<![\w"]){re.escape(name)}(?![\w"])'
            rf'|"{re.escape(name)}"',
            expressions,
        )
    ]
    key = tuple(dict.fromkeys([*columns, *read]))
    if key:
        table.unique_keys.append(key)


def domain_checks(types: dict, oid: int) -> list[tuple[str, str]]:
    """(name, definition) of the CHECKs of a domain type and of the domains it is made from."""
    found, row = [], types[oid]
    while row["typtype"] == "d":
        found.extend(tuple(check) for check in row["checks"])
        row = types[row["typbasetype"]]
    return found


def on_column(definition: str, column: str) -> str:
    """A domain's CHECK (VALUE > 0) as the column's: CHECK ("price" > 0). String literals are left alone."""
    quoted = '"' + column.replace('"', '""') + '"'
    parts = re.split(r"('(?:[^']|'')*')", definition)
    return "".join(part if part.startswith("'") else re.sub(r"\bVALUE\b", quoted, part) for part in parts)


def resolve_type(types: dict, oid: int, typmod: int) -> tuple[PgType | None, bool]:
    """The generatable type behind a column type (through domains), and whether a domain forbids NULL."""
    row, not_null = types[oid], False
    while row["typtype"] == "d":
        not_null = not_null or row["typnotnull"]
        typmod = row["typtypmod"] if typmod < 0 else typmod
        row = types[row["typbasetype"]]
    if row["typtype"] == "e":  # an enum without labels has no value to generate: NULL or nothing
        return (PgType("enum", labels=tuple(row["labels"])) if row["labels"] else None), not_null
    if row["typcategory"] == "A" and row["typelem"]:
        element, _ = resolve_type(types, row["typelem"], typmod)
        return (PgType("array", element=element) if element else None), not_null
    return scalar_type(row["typname"], typmod), not_null
