"""The review's rules, each a function of a parsed revision script (syntax.py) returning its findings.

Each rule catches a mistake that autogenerate or a hurried author makes and that would otherwise surface only when
the revision runs against real data. reviewer.py runs them all (CHECKS) on a script.
"""

from __future__ import annotations

import ast
import re

from thirdai_platform.migrate import parsed_sql
from thirdai_platform.migrate.review import syntax
from thirdai_platform.migrate.review.syntax import ParsedScript, ReviewFinding

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
    "invalid-data-loss": ERROR,
    "computed-data-loss": WARNING,
}

RAW_SQL_METHODS = {"execute", "exec_driver_sql"}
CREATE_TYPE = re.compile(r"\bCREATE\s+TYPE\s+(?:\w+\.)?\"?(\w+)\"?", re.IGNORECASE)
# A `%` that psycopg2 would read as a placeholder start but is neither `%%`, `%s` nor `%(name)s`.
LONE_PERCENT = re.compile(r"%(?!%|s|\(\w+\)s)")
DOUBLED_PERCENT = re.compile(r"%%")


def rule_finding(script: ParsedScript, rule: str, node: ast.AST | int, message: str) -> ReviewFinding:
    line = node if isinstance(node, int) else node.lineno
    return ReviewFinding(rule, script.revision, script.path, line, message, RULES[rule])


# --- rules ---------------------------------------------------------------------------------------------------------


def _drop_constraint_none(script: ParsedScript) -> list[ReviewFinding]:
    findings = []
    for call in syntax.calls(script.tree):
        if syntax.method(call) != "drop_constraint":
            continue
        name = call.args[0] if call.args else syntax.keyword(call, "constraint_name")
        if isinstance(name, ast.Constant) and name.value is None:
            findings.append(
                rule_finding(
                    script,
                    "drop-constraint-none",
                    call,
                    "op.drop_constraint(None, ...) is autogenerate's placeholder for an unnamed constraint and "
                    "cannot run: look up the constraint's real name and write it here",
                )
            )
    return findings


def _empty_downgrade(script: ParsedScript) -> list[ReviewFinding]:
    downgrade = script.functions.get("downgrade")
    if downgrade is None:
        return [
            rule_finding(script, "empty-downgrade", 1, "the script has no downgrade(): write one to undo upgrade()")
        ]
    if not _is_empty_body(downgrade) or _changes_nothing(script.functions.get("upgrade")):
        return []
    return [
        rule_finding(
            script,
            "empty-downgrade",
            downgrade,
            "downgrade() does nothing: it must restore the schema and the data that upgrade() changed",
        )
    ]


def _changes_nothing(upgrade: ast.FunctionDef | None) -> bool:
    """An upgrade that leaves nothing to undo: empty (a placeholder or a merge), or only maintenance SQL such as
    REINDEX or ANALYZE (parsed_sql.only_maintenance)."""
    if upgrade is None:
        return False
    if _is_empty_body(upgrade):
        return True
    for statement in _flattened(upgrade.body):
        if _does_nothing(statement):
            continue
        call = statement.value if isinstance(statement, ast.Expr) else None
        if not isinstance(call, ast.Call) or syntax.method(call) not in RAW_SQL_METHODS:
            return False
        sql = syntax.sql_text(call)
        if sql is None or not parsed_sql.only_maintenance(sql):
            return False
    return True


def _flattened(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of a body, those inside `with` blocks (e.g. autocommit_block()) in their place."""
    return [inner for s in body for inner in (_flattened(s.body) if isinstance(s, ast.With) else [s])]


def _is_empty_body(function: ast.FunctionDef) -> bool:
    return all(_does_nothing(statement) for statement in function.body)


def _does_nothing(statement: ast.stmt) -> bool:
    """`pass`, a docstring or bare string, or `raise NotImplementedError`."""
    if isinstance(statement, ast.Pass):
        return True
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
        return True
    if isinstance(statement, ast.Raise) and statement.exc is not None:
        raised = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
        return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"
    return False


def _execute_without_reverse(script: ParsedScript) -> list[ReviewFinding]:
    upgrade, downgrade = script.functions.get("upgrade"), script.functions.get("downgrade")
    if upgrade is None or downgrade is None or _is_empty_body(downgrade) or syntax.has_data_statement(downgrade):
        return []  # a missing or empty downgrade is already its own finding
    executes = [call for call in syntax.calls(upgrade) if syntax.method(call) in RAW_SQL_METHODS]
    if not executes:
        return []
    return [
        rule_finding(
            script,
            "execute-without-reverse",
            executes[0],
            "upgrade() runs raw SQL but downgrade() runs none: Alembic cannot reverse SQL it did not generate, "
            "write the reverse statement in downgrade()",
        )
    ]


def _created_by_upgrade(script: ParsedScript) -> set[str]:
    """ "table" and "table.column" the upgrade creates: data that only exists at the revision, which a downgrade
    cannot keep (the walk notes it), so dropping them there is no loss to declare."""
    created, upgrade = set(), script.functions.get("upgrade")
    for call in syntax.calls(upgrade) if upgrade else []:
        method = syntax.method(call)
        if method == "create_table":
            created.add(script.table_of(call))
        elif method == "add_column":
            column = script.column_of(call)
            if isinstance(column, ast.Call) and syntax.method(column) == "Column" and column.args:
                created.add(f"{script.table_of(call)}.{syntax.literal(column.args[0])}")
    return created


def _undeclared_drops(script: ParsedScript) -> list[tuple[str, ast.Call, str]]:
    """(direction, call, "table t" / "column t.c") of each drop whose data is neither moved nor declared lost."""
    drops = []
    for direction, function in script.functions.items():
        if syntax.has_data_statement(function):
            continue
        declared = set(script.data_loss.entries[direction])
        if direction == "downgrade":
            declared |= _created_by_upgrade(script)
        for call in syntax.calls(function):
            method = syntax.method(call)
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
                drops.append((direction, call, dropped))
    return drops


def _drop_without_data_move(script: ParsedScript) -> list[ReviewFinding]:
    drops = _undeclared_drops(script)
    if drops and script.data_loss.computed:  # only the walk, running the script, knows what it declares
        direction, _, dropped = drops[0]
        return [
            rule_finding(
                script,
                "computed-data-loss",
                script.data_loss.line,
                f"data_loss is computed, so the review cannot tell whether it declares what {direction}() "
                f"loses dropping {dropped}"
                + (f" (and {len(drops) - 1} more drops)" if len(drops) > 1 else "")
                + ": the walk checks it when it runs the script; write data_loss as a literal to have it "
                "reviewed",
            )
        ]
    return [
        rule_finding(
            script,
            "drop-without-data-move",
            call,
            f"{direction}() drops {dropped} and moves none of its data: copy the data first "
            f'(op.execute / bulk_insert), or declare the loss in data_loss = {{"{direction}": '
            f'["{dropped.split(" ", 1)[1]}"]}}',
        )
        for direction, call, dropped in drops
    ]


def _invalid_data_loss(script: ParsedScript) -> list[ReviewFinding]:
    """A data_loss of another shape: the walk refuses it in the same words and holds the script to no declared loss."""
    malformed = script.data_loss.malformed
    return [rule_finding(script, "invalid-data-loss", script.data_loss.line, malformed)] if malformed else []


def _drop_add_looks_like_rename(script: ParsedScript) -> list[ReviewFinding]:
    findings = []
    for function in script.functions.values():
        if syntax.has_data_statement(function):
            continue  # drop + add around a copy is a deliberate transform, not a forgotten rename
        drops, adds = [], []
        for call in syntax.calls(function):
            method = syntax.method(call)
            if method == "drop_column":
                drops.append((call, script.table_of(call), script.column_name_of(call)))
            elif method == "add_column":
                column = script.column_of(call)
                if isinstance(column, ast.Call) and syntax.method(column) == "Column" and column.args:
                    name = syntax.literal(column.args[0])
                    if isinstance(name, str):
                        adds.append((script.table_of(call), name))
        for call, table, old in drops:
            for added_table, new in adds:
                if added_table == table and new != old:
                    findings.append(
                        rule_finding(
                            script,
                            "drop-add-looks-like-rename",
                            call,
                            f"looks like a rename of {table}.{old} to {table}.{new} written as drop + add: "
                            "use op.alter_column(new_column_name=)",
                        )
                    )
    return findings


def _enum_created_twice(script: ParsedScript) -> list[ReviewFinding]:
    findings = []
    for function in script.functions.values():
        explicit: set[str] = set()
        for call in syntax.calls(function):
            if syntax.method(call) == "create":
                name = syntax.enum_name(syntax.receiver_enum(call, script))
                if name:
                    explicit.add(name)
            elif syntax.method(call) in RAW_SQL_METHODS:
                explicit.update(CREATE_TYPE.findall(syntax.sql_text(call) or ""))
        if not explicit:
            continue
        # op.create_table creates the enum types its columns use; op.add_column does not (checked on PostgreSQL 15).
        for call in syntax.calls(function):
            if syntax.method(call) != "create_table":
                continue
            for enum in _enums_used(call, script):
                name = syntax.enum_name(enum)
                if name in explicit and not _create_type_false(enum):
                    findings.append(
                        rule_finding(
                            script,
                            "enum-created-twice",
                            call,
                            f"enum type {name} is created explicitly and again by op.create_table: the second "
                            f"CREATE TYPE fails with DuplicateObject; pass create_type=False to the column's enum",
                        )
                    )
    return findings


def _enums_used(call: ast.Call, script: ParsedScript) -> list[ast.Call]:
    enums = []
    for node in ast.walk(call):
        if syntax.is_enum_call(node):
            enums.append(node)
        elif isinstance(node, ast.Name) and node.id in script.enum_variables:
            enums.append(script.enum_variables[node.id])
    return enums


def _create_type_false(enum: ast.Call) -> bool:
    value = syntax.keyword(enum, "create_type")
    return isinstance(value, ast.Constant) and value.value is False


def _percent_in_raw_sql(script: ParsedScript) -> list[ReviewFinding]:
    # Checked against psycopg2: op.execute("..%..") and sa.text("..%..") run fine (SQLAlchemy escapes the %),
    # while exec_driver_sql always hands psycopg2 a parameter set and a cursor does so when given arguments:
    # then a lone % is read as a placeholder and the statement fails.
    findings = []
    for call in syntax.calls(script.tree):
        method = syntax.method(call)
        on_cursor = method == "execute" and len(call.args) > 1 and _is_cursor(call)
        if method != "exec_driver_sql" and not on_cursor:
            continue
        sql = syntax.literal(call.args[0]) if call.args else None
        if isinstance(sql, str) and LONE_PERCENT.search(DOUBLED_PERCENT.sub("", sql)):
            findings.append(
                rule_finding(
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
        return syntax.method(receiver) == "cursor"
    name = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
    return "cur" in name.lower()


# Every rule above, in the order review_script runs them.
CHECKS = (
    _drop_constraint_none,
    _empty_downgrade,
    _execute_without_reverse,
    _drop_without_data_move,
    _invalid_data_loss,
    _drop_add_looks_like_rename,
    _enum_created_twice,
    _percent_in_raw_sql,
)
