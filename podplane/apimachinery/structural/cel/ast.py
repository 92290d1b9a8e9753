"""CEL's abstract syntax: literals, identifiers, field selections, calls (operators are calls
named as cel-go names them: `_+_`, `_&&_`, `!_`, `_[_]`, `@in`), list and map literals, and the
macros (has, all, exists, exists_one, map, filter) once expanded. Each node keeps the offset of
its token in the source, for error messages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Uint:
    """A CEL uint value (`1u`): Python has one int type."""

    value: int


@dataclass
class Expr:
    offset: int


@dataclass
class Literal(Expr):
    value: object


@dataclass
class Ident(Expr):
    name: str


@dataclass
class Select(Expr):
    operand: Expr
    field: str
    optional: bool = False  # `.?field`
    test_only: bool = False  # has(operand.field)


@dataclass
class Call(Expr):
    function: str
    args: list[Expr]
    target: Expr | None = None  # the receiver of `target.function(args)`


@dataclass
class ListExpr(Expr):
    elements: list[Expr]


@dataclass
class MapExpr(Expr):
    entries: list[tuple[Expr, Expr]]


@dataclass
class Macro(Expr):
    """all, exists, exists_one, map, filter: `target.kind(var, args...)`."""

    kind: str
    target: Expr
    var: str
    args: list[Expr] = field(default_factory=list)


MACROS = {"all": 2, "exists": 2, "exists_one": 2, "map": (2, 3), "filter": 2}


class MacroError(ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def expand_macros(e: Expr) -> Expr:
    """has() into a test-only selection, comprehensions into Macro nodes."""
    if isinstance(e, Call):
        args = [expand_macros(a) for a in e.args]
        target = expand_macros(e.target) if e.target is not None else None
        if e.function == "has" and target is None and len(args) == 1:
            arg = args[0]
            if not isinstance(arg, Select) or arg.optional:
                raise MacroError("invalid argument to has() macro", e.offset)
            return Select(arg.offset, arg.operand, arg.field, test_only=True)
        arity = MACROS.get(e.function)
        if (
            target is not None
            and arity is not None
            and len(args) in (arity if isinstance(arity, tuple) else (arity,))
        ):
            var = args[0]
            if not isinstance(var, Ident):
                raise MacroError("argument must be a simple name", var.offset)
            return Macro(e.offset, e.function, target, var.name, args[1:])
        return Call(e.offset, e.function, args, target)
    if isinstance(e, Select):
        return Select(e.offset, expand_macros(e.operand), e.field, e.optional, e.test_only)
    if isinstance(e, ListExpr):
        return ListExpr(e.offset, [expand_macros(x) for x in e.elements])
    if isinstance(e, MapExpr):
        return MapExpr(e.offset, [(expand_macros(k), expand_macros(v)) for k, v in e.entries])
    return e
