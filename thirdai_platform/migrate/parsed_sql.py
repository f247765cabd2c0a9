"""SQL read by PostgreSQL's own parser (pglast, libpg_query): a script's statements, and the names they act on.

What the parser sees is what PostgreSQL runs: quoted and schema-qualified names, dollar quotes, CTEs, COPY, and the
bodies of DO blocks and functions (plpgsql bodies through libpg_query's plpgsql parser). SQL whose tables cannot be
known (PostgreSQL rejects it, or a DO block builds its SQL at run time) raises Unreadable, saying why.

The syntax tree is read in libpg_query's JSON form: building pglast's Python nodes costs ten times the parse, which a
walk would pay on every revision. In it a node is {"Kind": {fields}}, except in a field that can hold only one kind
(a statement's `relation` is a RangeVar): there its fields stand alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache

from pglast import parse_plpgsql, scan, split
from pglast.parser import ParseError, parse_sql_json

PREVIEW = 80
# Statements that change a type, and their field naming it: the tables using it are reached (an enum's new label).
TYPE_STATEMENTS = {
    "CreateEnumStmt": "typeName",
    "AlterEnumStmt": "typeName",
    "CreateRangeStmt": "typeName",
    "CreateDomainStmt": "domainname",
    "AlterDomainStmt": "typeName",
    "DefineStmt": "defnames",
}
# A renamed table, type or index is reached under its new name too: the revision's schema calls it so.
RENAMED_UNDER_NEW_NAME = frozenset({"OBJECT_TABLE", "OBJECT_TYPE", "OBJECT_INDEX"})
# plpgsql statements running SQL text they compute: EXECUTE, FOR ... IN EXECUTE, OPEN ... FOR EXECUTE,
# RETURN QUERY EXECUTE
DYNAMIC_SQL = {
    "PLpgSQL_stmt_dynexecute": "query",
    "PLpgSQL_stmt_dynfors": "query",
    "PLpgSQL_stmt_open": "dynquery",
    "PLpgSQL_stmt_return_query": "dynquery",
}
PLPGSQL_STATEMENT_MODE = 0  # an expression's parseMode: 0 a statement, 2 an expression, 3-5 an assignment
FOREIGN_KEY_ACTIONS_ON_ROWS = frozenset("cnd")  # CASCADE, SET NULL, SET DEFAULT (a: NO ACTION, r: RESTRICT)


class Unreadable(Exception):
    """SQL whose tables cannot be known; the message says why, in one line."""


@dataclass
class Names:
    """What some SQL names (tables, indexes, types, each without its schema) and whether it cascades (DROP, TRUNCATE
    or ALTER TABLE ... DROP ... CASCADE; a foreign key's ON DELETE CASCADE is not one)."""

    names: set[str] = field(default_factory=set)
    cascades: bool = False

    def add(self, more: Names) -> None:
        self.names |= more.names
        self.cascades = self.cascades or more.cascades


def statements(sql: str) -> list[str]:
    """The statements of a script, each ending with ';', the comments between them left out. SQL the parser rejects
    is split at the semicolons PostgreSQL's scanner finds (quotes, dollar quotes and comments are tokens of their
    own)."""
    try:
        pieces = split(sql)
    except ParseError:
        try:
            pieces = [sql[start:end] for start, end in scanned_spans(sql)]
        except ParseError:  # not even the scanner reads it (an unterminated quote): squawk says what it makes of it
            pieces = [sql]
    return [piece.strip() + ";" for piece in pieces if piece.strip()]


def scanned_spans(sql: str) -> list[tuple[int, int]]:
    """(start, end) of each statement, from its first token to its semicolon (or the end)."""
    spans, start = [], None
    for token in scan(sql):
        if token.name == "ASCII_59":  # ';'
            if start is not None:
                spans.append((start, token.start))
            start = None
        elif start is None and not token.name.endswith("_COMMENT"):
            start = token.start
    if start is not None:
        spans.append((start, len(sql)))
    return spans


def names_in(sql: str) -> Names:
    """The names the SQL acts on. Raises Unreadable."""
    found, encoded = Names(), sql.encode()
    for raw in parsed(sql):
        start = raw.get("stmt_location", 0)  # in bytes of UTF-8
        text = encoded[start : start + raw["stmt_len"] if raw.get("stmt_len") else None].decode()
        try:
            read_statement(raw["stmt"], text, found)
        except (KeyError, IndexError, TypeError) as error:  # a tree of a shape the readers below do not expect
            raise Unreadable(f"`{shortened(text)}` parses into a tree this reader does not know ({error!r})") from None
    return found


# Statements that change no schema and no data: rebuilding an index, statistics, reclaiming space, a matview's
# rows recomputed from its query. An upgrade of only these leaves nothing for a downgrade to undo.
MAINTENANCE = frozenset({"ReindexStmt", "VacuumStmt", "ClusterStmt", "RefreshMatViewStmt", "CheckPointStmt"})


# DDL that locks the tables it names (and their indexes, sequences and TOAST tables), and others only through what
# depends on those: a foreign key or a view (walk/deploy/locks.py reads no locks after one on tables of its own).
LOCKS_WHAT_IT_NAMES = frozenset({"IndexStmt", "AlterTableStmt"})


def relations_of_ddl(statement: str) -> frozenset[str] | None:
    """What one CREATE INDEX or ALTER TABLE statement names, as names_in reads it (its tables, a foreign key's
    table, a type a column changes to; without their schema); None for any other statement, CREATE INDEX
    CONCURRENTLY, or SQL the parser rejects."""
    try:
        [raw] = parsed(statement)
    except (Unreadable, ValueError):  # rejected, or not one statement
        return None
    [(kind, fields)] = raw["stmt"].items()
    if kind not in LOCKS_WHAT_IT_NAMES or fields.get("concurrent"):
        return None
    found = Names()
    try:
        read_statement(raw["stmt"], statement, found)
    except (KeyError, IndexError, TypeError):  # a tree of a shape the readers do not expect
        return None
    return frozenset(found.names) or None


# Statements on types alone, that lock no table: a new type, label, name or domain changes no table, and a DROP
# without CASCADE fails while a column still uses the type. (ALTER DOMAIN, which checks the columns using it, and
# ALTER TYPE ... ATTRIBUTE, which may change typed tables, are not among them.)
TYPES_ALONE = frozenset({"CreateEnumStmt", "AlterEnumStmt", "CreateDomainStmt", "CompositeTypeStmt", "CreateRangeStmt"})
TYPE_OBJECTS = frozenset({"OBJECT_TYPE", "OBJECT_DOMAIN"})


def locks_no_table(statement: str) -> bool:
    """Whether one statement creates, changes or drops types alone (see TYPES_ALONE); False for anything else,
    several statements, or SQL the parser rejects."""
    try:
        [raw] = parsed(statement)
    except (Unreadable, ValueError):
        return False
    [(kind, fields)] = raw["stmt"].items()
    if kind == "DropStmt":
        return fields.get("removeType") in TYPE_OBJECTS and fields.get("behavior") != "DROP_CASCADE"
    if kind == "RenameStmt":
        return fields.get("renameType") in TYPE_OBJECTS
    return kind in TYPES_ALONE


def only_maintenance(sql: str) -> bool:
    """Whether every statement of the SQL is maintenance (REINDEX, VACUUM, ANALYZE, CLUSTER, REFRESH MATERIALIZED
    VIEW, CHECKPOINT); False for SQL PostgreSQL's parser rejects."""
    try:
        found = parsed(sql)
    except Unreadable:
        return False
    return bool(found) and all(set(statement["stmt"]) <= MAINTENANCE for statement in found)


def parsed(sql: str) -> list[dict]:
    try:
        return json.loads(parse_sql_json(sql))["stmts"]
    except ParseError as error:
        raise Unreadable(f"PostgreSQL's parser rejects {rejected_statement(sql, error)}: {error.args[0]}") from None


def rejected_statement(sql: str, error: ParseError) -> str:
    """The statement the parser stopped in, shortened to one line."""
    at = error.args[1] if len(error.args) > 1 else -1
    try:
        found = next((sql[start:end] for start, end in scanned_spans(sql) if start <= at <= end), None)
    except ParseError:  # not even the scanner reads it (an unterminated quote)
        found = None
    return f"`{shortened(found)}`" if found else "it"


def shortened(text: str, limit: int = PREVIEW) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def read_statement(statement: dict, text: str, found: Names) -> None:
    """Adds what one statement (its tree and its own text) names to `found`, its DO block or function body included."""
    waiting = [statement]
    while waiting:
        item = waiting.pop()
        if isinstance(item, list):
            waiting.extend(item)
            continue
        if "relname" in item:  # a RangeVar: a table, index, sequence or view
            found.names.add(item["relname"])
        if item.get("behavior") == "DROP_CASCADE":
            found.cascades = True
        for kind, fields in item.items():
            if kind in TYPE_STATEMENTS:
                found.names.add(last_name(fields[TYPE_STATEMENTS[kind]]))
            elif kind in READERS:
                READERS[kind](fields, text, found)
            if isinstance(fields, (dict, list)):
                waiting.append(fields)


def read_drop(fields: dict, _text: str, found: Names) -> None:
    found.names.update(last_name(dropped) for dropped in fields.get("objects", []))  # DROP INDEX public.ix, DROP TYPE


def read_rename(fields: dict, _text: str, found: Names) -> None:
    if "object" in fields:  # ALTER TYPE x RENAME TO y
        found.names.add(last_name(fields["object"]))
    if fields["renameType"] in RENAMED_UNDER_NEW_NAME:
        found.names.add(fields["newname"])


def read_object(fields: dict, _text: str, found: Names) -> None:
    """COMMENT ON, ALTER ... SET SCHEMA, ALTER ... OWNER TO: the object named, and its table when it is a column's."""
    if "object" in fields:
        found.names.update(every_name(fields["object"]))


def read_alter_table_command(fields: dict, _text: str, found: Names) -> None:
    if fields["subtype"] == "AT_AlterColumnType":  # ALTER COLUMN ... TYPE t: the tables using t
        found.names.add(last_name(fields["def"]["ColumnDef"]["typeName"]))


def read_do(fields: dict, text: str, found: Names) -> None:
    options = defined(fields.get("args", []))
    language = options["language"]["String"]["sval"] if "language" in options else "plpgsql"
    found.add(body_names(language, text, options["as"]["String"]["sval"], "a DO block"))


def read_function(fields: dict, text: str, found: Names) -> None:
    options = defined(fields.get("options", []))
    if "as" in options:  # else BEGIN ATOMIC ... END: its statements are part of the tree
        language = options["language"]["String"]["sval"] if "language" in options else "sql"
        body = last_name(options["as"])
        found.add(body_names(language, text, body, f"function {last_name(fields['funcname'])}"))


READERS = {
    "DropStmt": read_drop,
    "RenameStmt": read_rename,
    "AlterTableCmd": read_alter_table_command,
    "DoStmt": read_do,
    "CreateFunctionStmt": read_function,
    "CommentStmt": read_object,
    "AlterObjectSchemaStmt": read_object,
    "AlterOwnerStmt": read_object,
}


def defined(options: list[dict]) -> dict:
    """DefElem options by name: {"language": {"String": ...}, "as": ...}."""
    return {option["DefElem"]["defname"]: option["DefElem"].get("arg") for option in options}


def body_names(language: str, statement: str, body: str, what: str) -> Names:
    """The names a DO block's or function's body acts on; plpgsql is read with the whole statement (its parameters
    and what it returns declare its variables)."""
    if language == "sql":
        return names_in(body)
    if language == "plpgsql":
        return plpgsql_names(statement, what)
    raise Unreadable(f"{what} is written in {language}: only SQL and plpgsql bodies can be read")


def plpgsql_names(statement: str, what: str) -> Names:
    """The names the SQL inside a plpgsql DO block or CREATE FUNCTION acts on; EXECUTE of SQL computed at run time is
    Unreadable."""
    try:
        tree = parse_plpgsql(statement)
    except ParseError as error:
        raise Unreadable(f"the plpgsql of {what} cannot be parsed: {error}") from None
    found = Names()
    for text in plpgsql_queries(tree, what):
        found.add(names_in(text))
    return found


def plpgsql_queries(tree, what: str) -> list[str]:
    """SQL text of every expression and statement in a plpgsql tree (plpgsql's JSON form), as statements."""
    if isinstance(tree, list):
        return [text for item in tree for text in plpgsql_queries(item, what)]
    if not isinstance(tree, dict):
        return []
    found = []
    for key, value in tree.items():
        if key in DYNAMIC_SQL and DYNAMIC_SQL[key] in value:
            found.append(executed_text(value[DYNAMIC_SQL[key]]["PLpgSQL_expr"]["query"], what))
        if key == "PLpgSQL_expr":
            found.append(as_statement(value["query"], value.get("parseMode", PLPGSQL_STATEMENT_MODE)))
        else:
            found += plpgsql_queries(value, what)
    return found


def as_statement(query: str, mode: int) -> str:
    if mode == PLPGSQL_STATEMENT_MODE:
        return query
    if mode > 2:  # an assignment: "total := (SELECT count(*) FROM t)"
        query = query.partition("=")[2] or query
    return f"SELECT {query}"


def executed_text(query: str, what: str) -> str:
    """The SQL an EXECUTE runs when it is a string literal; Unreadable when it is computed at run time."""
    [raw] = parsed(f"SELECT {query}")
    value = raw["stmt"]["SelectStmt"]["targetList"][0]["ResTarget"]["val"]
    if "sval" in value.get("A_Const", {}):
        return value["A_Const"]["sval"]["sval"]
    raise Unreadable(f"{what} runs SQL it builds at run time (EXECUTE {shortened(query, 60)})")


def last_name(name) -> str:
    """A qualified name's own part, in any of the tree's spellings of one: public.jobs → "jobs"."""
    if isinstance(name, list):
        return last_name(name[-1])
    if "List" in name:
        return last_name(name["List"]["items"])
    if "TypeName" in name:
        return last_name(name["TypeName"]["names"])
    if "names" in name:  # a TypeName where only a TypeName can be
        return last_name(name["names"])
    return name["String"]["sval"]


def dropped(sql: str) -> frozenset[str]:
    """The tables ("table") and columns ("table.column") the SQL drops; none when the parser rejects it."""
    try:
        statements = [raw["stmt"] for raw in parsed(sql)]
    except Unreadable:
        return frozenset()
    found = set()
    for statement in statements:
        if statement.get("DropStmt", {}).get("removeType") == "OBJECT_TABLE":
            found.update(last_name(table) for table in statement["DropStmt"]["objects"])
        alter = statement.get("AlterTableStmt", {})
        for command in alter.get("cmds", []):
            if command["AlterTableCmd"]["subtype"] == "AT_DropColumn":
                found.add(f"{alter['relation']['relname']}.{command['AlterTableCmd']['name']}")
    return frozenset(found)


def every_name(name) -> list[str]:
    """Every part of a qualified name: public.jobs → ["public", "jobs"]; t.c (a column) → ["t", "c"]."""
    if isinstance(name, list):
        return [part for item in name for part in every_name(item)]
    if not isinstance(name, dict):
        return []
    if "String" in name:
        return [name["String"]["sval"]]
    return [part for value in name.values() for part in every_name(value)]


@dataclass(frozen=True)
class ForeignKey:
    referenced: str
    changes_referencing_rows: bool  # ON DELETE / ON UPDATE CASCADE, SET NULL or SET DEFAULT


@lru_cache(maxsize=4096)
def foreign_key(definition: str) -> ForeignKey | None:
    """The foreign key a constraint's definition (pg_get_constraintdef) states; None for other constraints."""
    try:
        [raw] = parsed(f"ALTER TABLE t ADD {definition}")
    except Unreadable:
        return None
    constraint = raw["stmt"]["AlterTableStmt"]["cmds"][0]["AlterTableCmd"]["def"].get("Constraint", {})
    if "pktable" not in constraint:
        return None
    actions = {constraint.get("fk_del_action"), constraint.get("fk_upd_action")}
    return ForeignKey(constraint["pktable"]["relname"], bool(actions & FOREIGN_KEY_ACTIONS_ON_ROWS))
