"""CHECK expressions, parsed by PostgreSQL's own parser (pglast), as Python functions of a row.

compile_check() turns the text pg_get_constraintdef() gives into `test(row) -> bool | None`: False when the row
breaks the constraint, None when PostgreSQL would say NULL (which passes) or when a value is beyond what the
evaluator models (the database then decides). An expression with a form it does not know raises Unsupported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from pglast import ast, parse_sql
from pglast.enums import A_Expr_Kind, BoolExprType, BoolTestType, NullTestType
from pglast.parser import ParseError

from thirdai_platform.migrate.walk.seed.casts import CASTS, Unknown
from thirdai_platform.migrate.walk.seed.operators import BINARY, FUNCTIONS, count_nulls

Row = dict
Evaluator = Callable[[Row], object]


class Unsupported(Exception):
    """A form of expression the evaluator does not model."""


def parse_check(definition: str) -> ast.Node:
    """The expression node of 'CHECK (...)' as pg_get_constraintdef prints it (NOT VALID and the like dropped)."""
    body = re.sub(r"\s+NOT VALID\s*$|\s+NO INHERIT\s*$", "", definition.strip())
    if not body.upper().startswith("CHECK"):
        raise Unsupported(definition)
    try:
        return parse_sql("SELECT 1 WHERE " + body[len("CHECK") :])[0].stmt.whereClause
    except ParseError as error:
        raise Unsupported(str(error)) from error


def compile_check(node: ast.Node) -> Callable[[Row], bool | None]:
    evaluate = compile_node(node)

    def test(row: Row) -> bool | None:
        try:
            value = evaluate(row)
        except (Unknown, TypeError, ValueError, ArithmeticError, re.error):
            return None
        return None if value is None else bool(value)

    return test


def column_name(node: ast.Node) -> str | None:
    """The column a node reads, seen through casts: (status)::text is status."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.ColumnRef) and isinstance(node.fields[-1], ast.String):
        return node.fields[-1].sval
    return None


def constant(node: ast.Node) -> object:
    """The value of a literal (through casts and arrays), or raise Unsupported."""
    evaluate = compile_node(node)
    if columns_read(node):
        raise Unsupported("not a constant")
    return evaluate({})


def columns_read(node: ast.Node) -> set[str]:
    found = set()

    def visit(item) -> None:
        if isinstance(item, ast.ColumnRef):
            found.add(column_name(item))
        elif isinstance(item, ast.Node):
            for slot in item:
                visit(getattr(item, slot))
        elif isinstance(item, (tuple, list)):
            for each in item:
                visit(each)

    visit(node)
    return found


# ---- compiling nodes


def compile_node(node: ast.Node) -> Evaluator:
    handler = HANDLERS.get(type(node))
    if handler is None:
        raise Unsupported(type(node).__name__)
    return handler(node)


def compile_const(node: ast.A_Const) -> Evaluator:
    if node.isnull:
        return lambda row: None
    value = node.val
    if isinstance(value, ast.Integer):
        result = value.ival
    elif isinstance(value, ast.Float):
        result = Decimal(value.fval)
    elif isinstance(value, ast.Boolean):
        result = value.boolval
    elif isinstance(value, ast.String):
        result = value.sval
    else:
        raise Unsupported(type(value).__name__)
    return lambda row: result


def compile_column(node: ast.ColumnRef) -> Evaluator:
    name = column_name(node)
    if name is None:
        raise Unsupported("column *")
    return lambda row: row.get(name)


def compile_cast(node: ast.TypeCast) -> Evaluator:
    inner = compile_node(node.arg)
    convert = converter(node.typeName)
    return lambda row: None if (value := inner(row)) is None else convert(value)


def converter(type_name: ast.TypeName) -> Callable[[object], object]:
    name = type_name.names[-1].sval
    single = CASTS.get(name, lambda value: value)  # enums, domains, regclass...: the value as it is
    if type_name.arrayBounds:
        return lambda value: [None if item is None else single(item) for item in as_list(value)]
    return single


def as_list(value: object) -> list:
    if isinstance(value, list):
        return value
    raise Unknown("array literal text")  # '{a,b}' parsing is not modelled


def compile_bool(node: ast.BoolExpr) -> Evaluator:
    parts = [compile_node(arg) for arg in node.args]
    if node.boolop == BoolExprType.NOT_EXPR:
        return lambda row: None if (value := parts[0](row)) is None else not value
    wanted = node.boolop == BoolExprType.OR_EXPR  # the value that decides: True for OR, False for AND

    def combine(row: Row) -> bool | None:
        unknown = False
        for part in parts:
            value = part(row)
            if value is None:
                unknown = True
            elif bool(value) == wanted:
                return wanted
        return None if unknown else not wanted

    return combine


def compile_null_test(node: ast.NullTest) -> Evaluator:
    inner = compile_node(node.arg)
    if node.nulltesttype == NullTestType.IS_NULL:
        return lambda row: inner(row) is None
    return lambda row: inner(row) is not None


def compile_boolean_test(node: ast.BooleanTest) -> Evaluator:
    inner = compile_node(node.arg)
    outcomes = {
        BoolTestType.IS_TRUE: (True,),
        BoolTestType.IS_NOT_TRUE: (False, None),
        BoolTestType.IS_FALSE: (False,),
        BoolTestType.IS_NOT_FALSE: (True, None),
        BoolTestType.IS_UNKNOWN: (None,),
        BoolTestType.IS_NOT_UNKNOWN: (True, False),
    }
    accepted = outcomes[node.booltesttype]
    return lambda row: inner(row) in accepted


def compile_array(node: ast.A_ArrayExpr) -> Evaluator:
    items = [compile_node(element) for element in node.elements or ()]
    return lambda row: [item(row) for item in items]


def compile_coalesce(node: ast.CoalesceExpr) -> Evaluator:
    parts = [compile_node(arg) for arg in node.args]
    return lambda row: next((value for part in parts if (value := part(row)) is not None), None)


HANDLERS: dict[type, Callable[[ast.Node], Evaluator]] = {
    ast.A_Const: compile_const,
    ast.ColumnRef: compile_column,
    ast.TypeCast: compile_cast,
    ast.BoolExpr: compile_bool,
    ast.NullTest: compile_null_test,
    ast.BooleanTest: compile_boolean_test,
    ast.A_ArrayExpr: compile_array,
    ast.CoalesceExpr: compile_coalesce,
}


# ---- operators and function calls (what each does: operators.py)


def strict(function: Callable[..., object], parts: list[Evaluator]) -> Evaluator:
    """A call that is NULL when any argument is NULL, as most SQL operators and functions are."""

    def call(row: Row) -> object:
        values = [part(row) for part in parts]
        return None if any(value is None for value in values) else function(*values)

    return call


def operator_of(node: ast.A_Expr) -> Callable[[object, object], object]:
    name = node.name[-1].sval
    if name not in BINARY:
        raise Unsupported(f"operator {name}")
    return BINARY[name]


def compile_operation(node: ast.A_Expr) -> Evaluator:
    kind = node.kind
    if kind in (A_Expr_Kind.AEXPR_LIKE, A_Expr_Kind.AEXPR_ILIKE) or kind == A_Expr_Kind.AEXPR_OP:
        apply = operator_of(node)
        if node.lexpr is None:  # prefix minus
            inner = compile_node(node.rexpr)
            return lambda row: None if (value := inner(row)) is None else -value
        return strict(apply, [compile_node(node.lexpr), compile_node(node.rexpr)])
    if kind in (A_Expr_Kind.AEXPR_OP_ANY, A_Expr_Kind.AEXPR_OP_ALL, A_Expr_Kind.AEXPR_IN):
        return compile_any(node, every=kind == A_Expr_Kind.AEXPR_OP_ALL or node.name[-1].sval == "<>")
    if kind in (
        A_Expr_Kind.AEXPR_BETWEEN,
        A_Expr_Kind.AEXPR_NOT_BETWEEN,
        A_Expr_Kind.AEXPR_BETWEEN_SYM,
        A_Expr_Kind.AEXPR_NOT_BETWEEN_SYM,
    ):
        return compile_between(node)
    if kind in (A_Expr_Kind.AEXPR_DISTINCT, A_Expr_Kind.AEXPR_NOT_DISTINCT):
        left, right = compile_node(node.lexpr), compile_node(node.rexpr)
        distinct = kind == A_Expr_Kind.AEXPR_DISTINCT
        return lambda row: (left(row) != right(row)) == distinct
    raise Unsupported(f"expression kind {kind!r}")


def compile_any(node: ast.A_Expr, every: bool) -> Evaluator:
    """x op ANY (array), x op ALL (array), x IN (list), x NOT IN (list) (`every`: ALL and NOT IN)."""
    apply, left = operator_of(node), compile_node(node.lexpr)
    items = (
        compile_node(node.rexpr)
        if isinstance(node.rexpr, ast.Node)
        else compile_array(ast.A_ArrayExpr(elements=node.rexpr))
    )

    def test(row: Row) -> bool | None:
        value, candidates = left(row), items(row)
        if value is None or candidates is None:
            return None
        outcomes = [None if item is None else apply(value, item) for item in as_list(candidates)]
        if every:
            return False if False in outcomes else (None if None in outcomes else True)
        return True if True in outcomes else (None if None in outcomes else False)

    return test


def compile_between(node: ast.A_Expr) -> Evaluator:
    value, low, high = compile_node(node.lexpr), compile_node(node.rexpr[0]), compile_node(node.rexpr[1])
    symmetric = node.kind in (A_Expr_Kind.AEXPR_BETWEEN_SYM, A_Expr_Kind.AEXPR_NOT_BETWEEN_SYM)
    inside = node.kind in (A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_BETWEEN_SYM)

    def between(checked, lowest, highest) -> bool:
        if symmetric and lowest > highest:
            lowest, highest = highest, lowest
        return (lowest <= checked <= highest) == inside

    return strict(between, [value, low, high])


def compile_call(node: ast.FuncCall) -> Evaluator:
    name = node.funcname[-1].sval
    parts = [compile_node(arg) for arg in node.args or ()]
    if name in ("num_nulls", "num_nonnulls"):
        nulls = lambda row: count_nulls(*(part(row) for part in parts))  # noqa: E731
        return nulls if name == "num_nulls" else (lambda row: len(parts) - nulls(row))
    if name not in FUNCTIONS or node.agg_star or node.over:
        raise Unsupported(f"function {name}")
    return strict(FUNCTIONS[name], parts)


HANDLERS.update({ast.A_Expr: compile_operation, ast.FuncCall: compile_call})
