"""What a CHECK constraint asks of a row: a test to run on planned rows, and per-column domains to draw from.

A domain comes from the parts of the constraint (joined by AND at its top) that read one column against
constants: `status IN ('new', 'paid')`, `rating BETWEEN 1 AND 5`, `char_length(code) <= 4`, `code ~ '^[A-Z]+$'`,
`note IS NOT NULL`. Whatever else the constraint says (columns compared with each other, OR of NOT NULLs,
num_nonnulls(...)) is met by drawing new values until the test passes.
"""

from __future__ import annotations

from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType, NullTestType

from thirdai_platform.migrate.walk.seed.domain import Check, Domain, like_pattern
from thirdai_platform.migrate.walk.seed.expressions import (
    Unsupported,
    column_name,
    columns_read,
    compile_check,
    constant,
    parse_check,
)

FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>", "!=": "<>"}
LENGTH_FUNCTIONS = {"length", "char_length", "character_length"}


def read_check(name: str, definition: str, columns: tuple[str, ...], domains: dict[str, Domain]) -> Check:
    """The check, its test, and what it says of single columns added to `domains` (those of its table)."""
    try:
        node = parse_check(definition)
        test = compile_check(node)
    except Unsupported:
        return Check(name, definition, columns, None)
    check = Check(name, definition, columns, test)
    for part in conjuncts(node):
        learn(part, domains)
        if isinstance(part, ast.BoolExpr) and part.boolop == BoolExprType.OR_EXPR:
            check.alternatives.append([domains_of(alternative) for alternative in part.args])
    return check


def domains_of(node: ast.Node) -> dict[str, Domain]:
    domains: dict[str, Domain] = {}
    for part in conjuncts(node):
        learn(part, domains)
    return domains


def conjuncts(node: ast.Node) -> list[ast.Node]:
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
        return [part for arg in node.args for part in conjuncts(arg)]
    return [node]


def learn(node: ast.Node, domains: dict[str, Domain]) -> None:
    """Narrow the domain of the one column a part reads, when the part has a form we draw values for."""
    if len(columns_read(node)) != 1:
        return
    # (a = 1) OR (a = 2) above; in an alternative, a part may be the NOT NULL of one column
    try:
        if isinstance(node, ast.NullTest) and node.nulltesttype == NullTestType.IS_NOT_NULL:
            if name := column_name(node.arg):
                domains.setdefault(name, Domain()).not_null = True
        elif isinstance(node, ast.A_Expr):
            learn_expression(node, domains)
        elif isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.OR_EXPR:
            learn_alternatives(node, domains)
    except Unsupported:
        pass  # the test still checks it


def learn_expression(node: ast.A_Expr, domains: dict[str, Domain]) -> None:
    operator = node.name[-1].sval
    if node.kind in (A_Expr_Kind.AEXPR_OP_ANY, A_Expr_Kind.AEXPR_IN) and operator == "=":
        add_choices(domain_of(node.lexpr, domains), list_constant(node.rexpr))
    elif node.kind in (A_Expr_Kind.AEXPR_OP_ALL, A_Expr_Kind.AEXPR_IN) and operator == "<>":
        domain_of(node.lexpr, domains).excluded.extend(list_constant(node.rexpr))
    elif node.kind == A_Expr_Kind.AEXPR_BETWEEN:
        low, high = constant(node.rexpr[0]), constant(node.rexpr[1])
        learn_comparison(node.lexpr, ">=", low, domains)
        learn_comparison(node.lexpr, "<=", high, domains)
    elif node.kind == A_Expr_Kind.AEXPR_OP and operator in ("~", "~*"):
        domain_of(node.lexpr, domains).patterns.append((str(constant(node.rexpr)), operator == "~*"))
    elif operator in ("~~", "~~*"):  # LIKE, ILIKE
        pattern = "^" + like_pattern(str(constant(node.rexpr))) + "$"
        domain_of(node.lexpr, domains).patterns.append((pattern, operator == "~~*"))
    elif node.kind == A_Expr_Kind.AEXPR_OP and operator in FLIPPED:
        if columns_read(node.lexpr):
            learn_comparison(node.lexpr, operator, constant(node.rexpr), domains)
        else:
            learn_comparison(node.rexpr, FLIPPED[operator], constant(node.lexpr), domains)


def learn_alternatives(node: ast.BoolExpr, domains: dict[str, Domain]) -> None:
    """(kind = 'a') OR (kind = 'b') OR kind IN (...): the union of the choices."""
    choices, scratch = [], {}
    for part in node.args:
        scratch.clear()
        if not (isinstance(part, ast.A_Expr) and part.name[-1].sval == "="):
            return
        learn_expression(part, scratch) if part.kind != A_Expr_Kind.AEXPR_OP else learn_comparison(
            part.lexpr, "=", constant(part.rexpr), scratch
        )
        if len(scratch) != 1 or next(iter(scratch.values())).choices is None:
            return
        choices.extend(next(iter(scratch.values())).choices)
    add_choices(domain_of(node.args[0].lexpr, domains), choices)


def learn_comparison(left: ast.Node, operator: str, value: object, domains: dict[str, Domain]) -> None:
    """column op constant, or length(column) op constant."""
    if value is None:
        return
    if isinstance(left, ast.FuncCall) and left.funcname[-1].sval in LENGTH_FUNCTIONS and len(left.args) == 1:
        learn_length(domain_of(left.args[0], domains), operator, int(value))
    elif operator == "=":
        add_choices(domain_of(left, domains), [value])
    elif operator == "<>":
        domain_of(left, domains).excluded.append(value)
    elif operator in ("<", "<=", ">", ">="):
        learn_bound(domain_of(left, domains), operator, value)


def learn_bound(domain: Domain, operator: str, value: object) -> None:
    inclusive = operator.endswith("=")
    try:
        if operator.startswith(">") and (domain.low is None or value > domain.low):
            domain.low, domain.low_inclusive = value, inclusive
        elif operator.startswith("<") and (domain.high is None or value < domain.high):
            domain.high, domain.high_inclusive = value, inclusive
    except TypeError:
        raise Unsupported("bounds of different types") from None


def learn_length(domain: Domain, operator: str, value: int) -> None:
    low = {">": value + 1, ">=": value, "=": value}.get(operator)
    high = {"<": value - 1, "<=": value, "=": value}.get(operator)
    if low is not None:
        domain.min_length = max(domain.min_length or 0, low)
    if high is not None:
        domain.max_length = high if domain.max_length is None else min(domain.max_length, high)


def domain_of(node: ast.Node, domains: dict[str, Domain]) -> Domain:
    name = column_name(node)
    if name is None:
        raise Unsupported("not a plain column")
    return domains.setdefault(name, Domain())


def list_constant(node) -> list:
    if isinstance(node, (tuple, list)):
        return [constant(item) for item in node]
    value = constant(node)
    if not isinstance(value, list):
        raise Unsupported("not a list")
    return value


def add_choices(domain: Domain, choices: list) -> None:
    choices = [choice for choice in choices if choice is not None]
    domain.choices = choices if domain.choices is None else [c for c in domain.choices if c in choices]
