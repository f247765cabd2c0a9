"""A revision script as the review reads it: its syntax tree (never imported nor run), and helpers on that tree."""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

from thirdai_platform.errors import UserError
from thirdai_platform.migrate.data_loss import DIRECTIONS, declared_entries

DATA_METHODS = {"execute", "exec_driver_sql", "bulk_insert"}


@dataclass(frozen=True)
class ReviewFinding:
    rule: str
    revision: str | None
    path: str
    line: int
    message: str
    severity: str  # "error" | "warning"


@dataclass(frozen=True)
class ParsedScript:
    """What the rules need from a parsed revision script."""

    path: str
    revision: str | None
    tree: ast.Module
    functions: dict[str, ast.FunctionDef]  # "upgrade" / "downgrade" → its definition
    data_loss: DeclaredLoss
    enum_variables: dict[str, ast.Call]  # name → the Enum(...) call assigned to it
    batch_tables: dict[int, str]  # id() of a batch_op call → its table

    def table_of(self, call: ast.Call) -> str:
        return self.batch_tables.get(id(call)) or argument(call, 0, "table_name")

    def column_of(self, call: ast.Call) -> ast.expr | None:
        """The column argument of drop_column/add_column: second on `op`, first on a batch operation."""
        position = 0 if id(call) in self.batch_tables else 1
        if len(call.args) > position:
            return call.args[position]
        return keyword(call, "column_name") or keyword(call, "column")

    def column_name_of(self, call: ast.Call) -> str:
        node = self.column_of(call)
        value = literal(node) if node is not None else None
        return value if isinstance(value, str) else (ast.unparse(node) if node is not None else "?")


# --- loading -------------------------------------------------------------------------------------------------------


def load(path: str | Path) -> ParsedScript:
    path = Path(path)
    source = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as error:
        raise UserError(f"{path}:{error.lineno}: not valid Python, cannot review it: {error.msg}") from None
    assignments = module_assignments(tree)
    revision = assignments.get("revision")
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in DIRECTIONS}
    enum_variables = {
        target.id: node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and is_enum_call(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    return ParsedScript(
        path=str(path),
        revision=literal(revision) if revision is not None else None,
        tree=tree,
        functions=functions,
        data_loss=data_loss(assignments.get("data_loss")),
        enum_variables=enum_variables,
        batch_tables=batch_tables(tree),
    )


def module_assignments(tree: ast.Module) -> dict[str, ast.expr]:
    values: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            values[node.target.id] = node.value
    return values


@dataclass(frozen=True)
class DeclaredLoss:
    """The script's `data_loss` as far as its syntax tree tells: what it declares per direction, read by the walk's
    rule (data_loss.py), or why that is unknown to the review (a computed value) or refused (a wrong shape)."""

    entries: dict[str, set[str]]
    line: int  # of the assignment; 1 when there is none
    computed: bool = False  # not a literal: only the walk, which runs the script, knows its value
    malformed: str | None = None  # the walk's message for a value of another shape


def data_loss(node: ast.expr | None) -> DeclaredLoss:
    nothing = {direction: set() for direction in DIRECTIONS}
    if node is None:
        return DeclaredLoss(nothing, 1)
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):  # what literal_eval raises on code
        return DeclaredLoss(nothing, node.lineno, computed=True)
    try:
        return DeclaredLoss({direction: declared_entries(value, direction) for direction in DIRECTIONS}, node.lineno)
    except ValueError as error:
        return DeclaredLoss(nothing, node.lineno, malformed=str(error))


def literal(node: ast.expr):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


# --- small helpers on the syntax tree ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def calls(node: ast.AST) -> tuple[ast.Call, ...]:
    """The calls inside node, in source order. Kept per node (by identity): every rule reads the same functions'
    calls, and walking a large revision's syntax tree once per rule cost most of the review (zou: 1.6 of 3 s)."""
    found = (n for n in ast.walk(node) if isinstance(n, ast.Call))
    return tuple(sorted(found, key=lambda n: (n.lineno, n.col_offset)))


def method(call: ast.Call) -> str:
    """The called name without its receiver: `op.drop_table(...)` → "drop_table", `Enum(...)` → "Enum"."""
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return ""


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def argument(call: ast.Call, position: int, name: str) -> str:
    """A string argument given by position or keyword, as text; "?" when it is computed."""
    node = call.args[position] if len(call.args) > position else keyword(call, name)
    if node is None:
        return "?"
    value = literal(node)
    return value if isinstance(value, str) else ast.unparse(node)


def batch_tables(tree: ast.Module) -> dict[int, str]:
    """id() of every call on `batch_op` inside `with op.batch_alter_table("t") as batch_op:` → "t"."""
    tables = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.With):
            continue
        for item in node.items:
            context, alias = item.context_expr, item.optional_vars
            is_batch = isinstance(context, ast.Call) and method(context) == "batch_alter_table"
            if is_batch and isinstance(alias, ast.Name):
                table = argument(context, 0, "table_name")
                for call in calls(node):
                    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
                    if isinstance(receiver, ast.Name) and receiver.id == alias.id:
                        tables[id(call)] = table
    return tables


def is_enum_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and method(node) in ("Enum", "ENUM")


def enum_name(call: ast.Call | None) -> str | None:
    if call is None:
        return None
    name = keyword(call, "name")
    value = literal(name) if name is not None else None
    return value if isinstance(value, str) else None


def receiver_enum(call: ast.Call, script: ParsedScript) -> ast.Call | None:
    """The Enum(...) that `.create()`/`.drop()` is called on, directly or through a variable."""
    if not isinstance(call.func, ast.Attribute):
        return None
    receiver = call.func.value
    if is_enum_call(receiver):
        return receiver
    if isinstance(receiver, ast.Name):
        return script.enum_variables.get(receiver.id)
    return None


def sql_text(call: ast.Call) -> str | None:
    """The SQL string handed to an execute call, directly or wrapped in sa.text(); None when computed."""
    if not call.args:
        return None
    node = call.args[0]
    if isinstance(node, ast.Call) and method(node) == "text" and node.args:
        node = node.args[0]
    value = literal(node)
    return value if isinstance(value, str) else None


def has_data_statement(function: ast.FunctionDef) -> bool:
    return any(method(call) in DATA_METHODS for call in calls(function))


def shorten(text: str, limit: int = 80) -> str:
    """One line of at most about limit characters, cut only between words and never inside a quoted string."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    outside_quotes = [
        i for i in range(limit) if text[i] == " " and text[:i].count("'") % 2 == 0 and text[:i].count('"') % 2 == 0
    ]
    return text[: outside_quotes[-1]] + " …" if outside_quotes else text
