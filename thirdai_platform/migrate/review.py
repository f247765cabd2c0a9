"""Static review of one Alembic revision script: reads its syntax tree, never imports or runs it.

Each rule catches a mistake that autogenerate or a hurried author makes and that would otherwise surface only when
the revision runs against real data. A rule is silenced in the script with `# review: ignore RULE-ID -- reason`.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

from thirdai_platform.errors import UserError

ERROR = "error"
WARNING = "warning"

# Rule id → severity. Errors break a run or lose data silently; warnings ask for a second look.
RULES = {
    "drop-constraint-none": ERROR,
    "empty-downgrade": ERROR,
    "execute-without-reverse": WARNING,
    "drop-without-data-move": ERROR,
    "drop-add-looks-like-rename": WARNING,
    "enum-created-twice": ERROR,
    "percent-in-raw-sql": ERROR,
    "invalid-ignore": ERROR,
}

DIRECTIONS = ("upgrade", "downgrade")
DATA_METHODS = {"execute", "exec_driver_sql", "bulk_insert"}
RAW_SQL_METHODS = {"execute", "exec_driver_sql"}
IGNORE_COMMENT = re.compile(r"#\s*review:\s*ignore\s+(?P<rule>[\w-]+)\s*(?:--\s*(?P<reason>.*))?$")
CREATE_TYPE = re.compile(r"\bCREATE\s+TYPE\s+(?:\w+\.)?\"?(\w+)\"?", re.IGNORECASE)
# A `%` that psycopg2 would read as a placeholder start but is neither `%%`, `%s` nor `%(name)s`.
LONE_PERCENT = re.compile(r"%(?!%|s|\(\w+\)s)")
DOUBLED_PERCENT = re.compile(r"%%")


@dataclass(frozen=True)
class ReviewFinding:
    rule: str
    revision: str | None
    path: str
    line: int
    message: str
    severity: str  # "error" | "warning"


@dataclass(frozen=True)
class _Script:
    """What the rules need from a parsed revision script."""

    path: str
    revision: str | None
    tree: ast.Module
    functions: dict[str, ast.FunctionDef]  # "upgrade" / "downgrade" → its definition
    data_loss: dict[str, list[str]]
    enum_variables: dict[str, ast.Call]  # name → the Enum(...) call assigned to it
    batch_tables: dict[int, str]  # id() of a batch_op call → its table

    def table_of(self, call: ast.Call) -> str:
        return self.batch_tables.get(id(call)) or _argument(call, 0, "table_name")

    def column_of(self, call: ast.Call) -> ast.expr | None:
        """The column argument of drop_column/add_column: second on `op`, first on a batch operation."""
        position = 0 if id(call) in self.batch_tables else 1
        if len(call.args) > position:
            return call.args[position]
        return _keyword(call, "column_name") or _keyword(call, "column")

    def column_name_of(self, call: ast.Call) -> str:
        node = self.column_of(call)
        value = _literal(node) if node is not None else None
        return value if isinstance(value, str) else (ast.unparse(node) if node is not None else "?")


def review_script(path: str | Path) -> list[ReviewFinding]:
    """Findings of every rule for one revision script, minus those silenced with a reasoned ignore comment."""
    script = _load(path)
    raw = [
        finding
        for check in (
            _drop_constraint_none,
            _empty_downgrade,
            _execute_without_reverse,
            _drop_without_data_move,
            _drop_add_looks_like_rename,
            _enum_created_twice,
            _percent_in_raw_sql,
        )
        for finding in check(script)
    ]
    ignored, ignore_findings = _ignores(script)
    kept = [finding for finding in raw if finding.rule not in ignored]
    return sorted(kept + ignore_findings, key=lambda finding: (finding.line, finding.rule))


def risky_operations(path: str | Path) -> list[str]:
    """One line per operation a reviewer should look at twice: drops, type changes, enum changes, raw SQL."""
    script = _load(path)
    lines = []
    for direction, function in script.functions.items():
        for call in _calls(function):
            method = _method(call)
            where = f"{direction} (line {call.lineno})"
            if method == "drop_table":
                lines.append(f"{where}: drops table {script.table_of(call)}")
            elif method == "drop_column":
                lines.append(f"{where}: drops column {script.table_of(call)}.{script.column_name_of(call)}")
            elif method == "alter_column" and _keyword(call, "type_") is not None:
                column = f"{script.table_of(call)}.{script.column_name_of(call)}"
                lines.append(f"{where}: changes the type of {column} to {ast.unparse(_keyword(call, 'type_'))}")
            elif method in ("create", "drop") and _enum_name(_receiver_enum(call, script)) is not None:
                lines.append(f"{where}: {method}s enum type {_enum_name(_receiver_enum(call, script))}")
            elif method == "EnumMigration":
                lines.append(f"{where}: changes enum labels ({_shorten(ast.unparse(call))})")
            elif method in RAW_SQL_METHODS:
                lines.append(f"{where}: raw SQL {_shorten(_sql_text(call) or ast.unparse(call))}")
    return lines


def declared_data_loss(path: str | Path) -> dict[str, list[str]]:
    """The script's `data_loss` declaration: {"upgrade": [...], "downgrade": [...]} of "table" / "table.column"."""
    return _load(path).data_loss


# --- loading -------------------------------------------------------------------------------------------------------


def _load(path: str | Path) -> _Script:
    path = Path(path)
    source = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as error:
        raise UserError(f"{path}:{error.lineno}: not valid Python, cannot review it: {error.msg}") from None
    assignments = _module_assignments(tree)
    revision = assignments.get("revision")
    functions = {
        node.name: node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in DIRECTIONS
    }
    enum_variables = {
        target.id: node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and _is_enum_call(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    return _Script(
        path=str(path),
        revision=_literal(revision) if revision is not None else None,
        tree=tree,
        functions=functions,
        data_loss=_data_loss(assignments.get("data_loss")),
        enum_variables=enum_variables,
        batch_tables=_batch_tables(tree),
    )


def _module_assignments(tree: ast.Module) -> dict[str, ast.expr]:
    values: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            values[node.target.id] = node.value
    return values


def _data_loss(node: ast.expr | None) -> dict[str, list[str]]:
    value = _literal(node) if node is not None else None
    if not isinstance(value, dict):
        return {}
    return {direction: [str(entry) for entry in value.get(direction, [])] for direction in DIRECTIONS}


def _literal(node: ast.expr):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


# --- small helpers on the syntax tree ------------------------------------------------------------------------------


def _calls(node: ast.AST) -> list[ast.Call]:
    return sorted((n for n in ast.walk(node) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))


def _method(call: ast.Call) -> str:
    """The called name without its receiver: `op.drop_table(...)` → "drop_table", `Enum(...)` → "Enum"."""
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return ""


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def _argument(call: ast.Call, position: int, name: str) -> str:
    """A string argument given by position or keyword, as text; "?" when it is computed."""
    node = call.args[position] if len(call.args) > position else _keyword(call, name)
    if node is None:
        return "?"
    value = _literal(node)
    return value if isinstance(value, str) else ast.unparse(node)


def _batch_tables(tree: ast.Module) -> dict[int, str]:
    """id() of every call on `batch_op` inside `with op.batch_alter_table("t") as batch_op:` → "t"."""
    tables = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.With):
            continue
        for item in node.items:
            context, alias = item.context_expr, item.optional_vars
            is_batch = isinstance(context, ast.Call) and _method(context) == "batch_alter_table"
            if is_batch and isinstance(alias, ast.Name):
                table = _argument(context, 0, "table_name")
                for call in _calls(node):
                    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
                    if isinstance(receiver, ast.Name) and receiver.id == alias.id:
                        tables[id(call)] = table
    return tables


def _is_enum_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _method(node) in ("Enum", "ENUM")


def _enum_name(call: ast.Call | None) -> str | None:
    if call is None:
        return None
    name = _keyword(call, "name")
    value = _literal(name) if name is not None else None
    return value if isinstance(value, str) else None


def _receiver_enum(call: ast.Call, script: _Script) -> ast.Call | None:
    """The Enum(...) that `.create()`/`.drop()` is called on, directly or through a variable."""
    if not isinstance(call.func, ast.Attribute):
        return None
    receiver = call.func.value
    if _is_enum_call(receiver):
        return receiver
    if isinstance(receiver, ast.Name):
        return script.enum_variables.get(receiver.id)
    return None


def _sql_text(call: ast.Call) -> str | None:
    """The SQL string handed to an execute call, directly or wrapped in sa.text(); None when computed."""
    if not call.args:
        return None
    node = call.args[0]
    if isinstance(node, ast.Call) and _method(node) == "text" and node.args:
        node = node.args[0]
    value = _literal(node)
    return value if isinstance(value, str) else None


def _has_data_statement(function: ast.FunctionDef) -> bool:
    return any(_method(call) in DATA_METHODS for call in _calls(function))


def _shorten(text: str, limit: int = 80) -> str:
    """One line of at most about limit characters, cut only between words and never inside a quoted string."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    outside_quotes = [i for i in range(limit) if text[i] == " " and text[:i].count("'") % 2 == 0
                      and text[:i].count('"') % 2 == 0]
    return text[:outside_quotes[-1]] + " …" if outside_quotes else text


def _finding(script: _Script, rule: str, node: ast.AST | int, message: str) -> ReviewFinding:
    line = node if isinstance(node, int) else node.lineno
    return ReviewFinding(rule, script.revision, script.path, line, message, RULES[rule])


# --- rules ---------------------------------------------------------------------------------------------------------


def _drop_constraint_none(script: _Script) -> list[ReviewFinding]:
    findings = []
    for call in _calls(script.tree):
        if _method(call) != "drop_constraint":
            continue
        name = call.args[0] if call.args else _keyword(call, "constraint_name")
        if isinstance(name, ast.Constant) and name.value is None:
            findings.append(
                _finding(
                    script,
                    "drop-constraint-none",
                    call,
                    "op.drop_constraint(None, ...) is autogenerate's placeholder for an unnamed constraint and "
                    "cannot run: look up the constraint's real name and write it here",
                )
            )
    return findings


def _empty_downgrade(script: _Script) -> list[ReviewFinding]:
    downgrade = script.functions.get("downgrade")
    if downgrade is None:
        return [_finding(script, "empty-downgrade", 1, "the script has no downgrade(): write one to undo upgrade()")]
    if not _is_empty_body(downgrade):
        return []
    return [
        _finding(
            script,
            "empty-downgrade",
            downgrade,
            "downgrade() does nothing: it must restore the schema and the data that upgrade() changed",
        )
    ]


def _is_empty_body(function: ast.FunctionDef) -> bool:
    for statement in function.body:
        if isinstance(statement, ast.Pass):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # docstring or a bare string
        if isinstance(statement, ast.Raise) and statement.exc is not None:
            raised = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
            if isinstance(raised, ast.Name) and raised.id == "NotImplementedError":
                continue
        return False
    return True


def _execute_without_reverse(script: _Script) -> list[ReviewFinding]:
    upgrade, downgrade = script.functions.get("upgrade"), script.functions.get("downgrade")
    if upgrade is None or downgrade is None or _is_empty_body(downgrade) or _has_data_statement(downgrade):
        return []  # a missing or empty downgrade is already its own finding
    executes = [call for call in _calls(upgrade) if _method(call) in RAW_SQL_METHODS]
    if not executes:
        return []
    return [
        _finding(
            script,
            "execute-without-reverse",
            executes[0],
            "upgrade() runs raw SQL but downgrade() runs none: Alembic cannot reverse SQL it did not generate, "
            "write the reverse statement in downgrade()",
        )
    ]


def _created_by_upgrade(script: _Script) -> set[str]:
    """"table" and "table.column" the upgrade creates: data that only exists at the revision, which a downgrade
    cannot keep (the walk notes it), so dropping them there is no loss to declare."""
    created, upgrade = set(), script.functions.get("upgrade")
    for call in _calls(upgrade) if upgrade else []:
        method = _method(call)
        if method == "create_table":
            created.add(script.table_of(call))
        elif method == "add_column":
            column = script.column_of(call)
            if isinstance(column, ast.Call) and _method(column) == "Column" and column.args:
                created.add(f"{script.table_of(call)}.{_literal(column.args[0])}")
    return created


def _drop_without_data_move(script: _Script) -> list[ReviewFinding]:
    findings = []
    for direction, function in script.functions.items():
        if _has_data_statement(function):
            continue
        declared = set(script.data_loss.get(direction, []))
        if direction == "downgrade":
            declared |= _created_by_upgrade(script)
        for call in _calls(function):
            method = _method(call)
            if method == "drop_table":
                table = script.table_of(call)
                dropped, covered = f"table {table}", table in declared
            elif method == "drop_column":
                table = script.table_of(call)
                column = script.column_name_of(call)
                dropped, covered = f"column {table}.{column}", {table, f"{table}.{column}"} & declared
            else:
                continue
            if not covered:
                findings.append(
                    _finding(
                        script,
                        "drop-without-data-move",
                        call,
                        f"{direction}() drops {dropped} and moves none of its data: copy the data first "
                        f'(op.execute / bulk_insert), or declare the loss in data_loss = {{"{direction}": '
                        f'["{dropped.split(" ", 1)[1]}"]}}',
                    )
                )
    return findings


def _drop_add_looks_like_rename(script: _Script) -> list[ReviewFinding]:
    findings = []
    for function in script.functions.values():
        if _has_data_statement(function):
            continue  # drop + add around a copy is a deliberate transform, not a forgotten rename
        drops, adds = [], []
        for call in _calls(function):
            method = _method(call)
            if method == "drop_column":
                drops.append((call, script.table_of(call), script.column_name_of(call)))
            elif method == "add_column":
                column = script.column_of(call)
                if isinstance(column, ast.Call) and _method(column) == "Column" and column.args:
                    name = _literal(column.args[0])
                    if isinstance(name, str):
                        adds.append((script.table_of(call), name))
        for call, table, old in drops:
            for added_table, new in adds:
                if added_table == table and new != old:
                    findings.append(
                        _finding(
                            script,
                            "drop-add-looks-like-rename",
                            call,
                            f"looks like a rename of {table}.{old} to {table}.{new} written as drop + add: "
                            "use op.alter_column(new_column_name=)",
                        )
                    )
    return findings


def _enum_created_twice(script: _Script) -> list[ReviewFinding]:
    findings = []
    for function in script.functions.values():
        explicit: set[str] = set()
        for call in _calls(function):
            if _method(call) == "create":
                name = _enum_name(_receiver_enum(call, script))
                if name:
                    explicit.add(name)
            elif _method(call) in RAW_SQL_METHODS:
                explicit.update(CREATE_TYPE.findall(_sql_text(call) or ""))
        if not explicit:
            continue
        # op.create_table creates the enum types its columns use; op.add_column does not (checked on PostgreSQL 15).
        for call in _calls(function):
            if _method(call) != "create_table":
                continue
            for enum in _enums_used(call, script):
                name = _enum_name(enum)
                if name in explicit and not _create_type_false(enum):
                    findings.append(
                        _finding(
                            script,
                            "enum-created-twice",
                            call,
                            f"enum type {name} is created explicitly and again by op.create_table: the second "
                            f"CREATE TYPE fails with DuplicateObject; pass create_type=False to the column's enum",
                        )
                    )
    return findings


def _enums_used(call: ast.Call, script: _Script) -> list[ast.Call]:
    enums = []
    for node in ast.walk(call):
        if _is_enum_call(node):
            enums.append(node)
        elif isinstance(node, ast.Name) and node.id in script.enum_variables:
            enums.append(script.enum_variables[node.id])
    return enums


def _create_type_false(enum: ast.Call) -> bool:
    value = _keyword(enum, "create_type")
    return isinstance(value, ast.Constant) and value.value is False


def _percent_in_raw_sql(script: _Script) -> list[ReviewFinding]:
    # Checked against psycopg2: op.execute("..%..") and sa.text("..%..") run fine (SQLAlchemy escapes the %),
    # while exec_driver_sql always hands psycopg2 a parameter set and a cursor does so when given arguments:
    # then a lone % is read as a placeholder and the statement fails.
    findings = []
    for call in _calls(script.tree):
        method = _method(call)
        on_cursor = method == "execute" and len(call.args) > 1 and _is_cursor(call)
        if method != "exec_driver_sql" and not on_cursor:
            continue
        sql = _literal(call.args[0]) if call.args else None
        if isinstance(sql, str) and LONE_PERCENT.search(DOUBLED_PERCENT.sub("", sql)):
            findings.append(
                _finding(
                    script,
                    "percent-in-raw-sql",
                    call,
                    f"{method}() passes this SQL to psycopg2 with parameters, so its % starts a placeholder: "
                    "write %% for a literal percent sign, or use op.execute(sa.text(...))",
                )
            )
    return findings


def _is_cursor(call: ast.Call) -> bool:
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    if isinstance(receiver, ast.Call):
        return _method(receiver) == "cursor"
    name = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
    return "cur" in name.lower()


# --- silencing -----------------------------------------------------------------------------------------------------


def _ignores(script: _Script) -> tuple[set[str], list[ReviewFinding]]:
    """Rule ids silenced by reasoned ignore comments, and findings for ignore comments that are not valid."""
    ignored, findings = set(), []
    source = Path(script.path).read_text(encoding="utf-8")
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        match = IGNORE_COMMENT.search(token.string)
        if match is None:
            continue
        rule, reason = match["rule"], (match["reason"] or "").strip()
        line = token.start[0]
        if rule not in RULES:
            findings.append(_finding(script, "invalid-ignore", line, f"ignore names an unknown rule {rule!r}"))
        elif not reason:
            findings.append(
                _finding(
                    script, "invalid-ignore", line, f"ignore of {rule} needs a reason: # review: ignore {rule} -- why"
                )
            )
        else:
            ignored.add(rule)
    return ignored, findings
