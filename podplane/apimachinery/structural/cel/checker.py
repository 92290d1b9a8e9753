"""CEL's type checker, for the subset podplane evaluates: each expression's type from the
variables' (self, oldSelf), so that a rule naming a field its schema does not have, calling a
function with the wrong arguments, or mixing types fails when the CRD is created, with cel-go's
messages (`undefined field 'foo'`, `found no matching overload for '_+_' applied to '(int,
string)'`, `undeclared reference to 'x' (in container '')`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from podplane.apimachinery.structural.cel import ast
from podplane.apimachinery.structural.cel import types as t
from podplane.apimachinery.structural.cel.library import NOT_SUPPORTED, SIGNATURES, Overload
from podplane.apimachinery.structural.cel.types import Type


class CheckError(ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


_NUMERIC = ("int", "uint", "double")
_ORDERED = ("string", "bytes", "bool", "timestamp", "duration")
_SIMPLE = {
    "int": t.INT, "uint": t.UINT, "double": t.DOUBLE, "bool": t.BOOL, "string": t.STRING,
    "bytes": t.BYTES, "timestamp": t.TIMESTAMP, "duration": t.DURATION, "dyn": t.DYN,
    "type": t.TYPE, "null_type": t.NULL,
}  # fmt: skip


def _split_params(text: str) -> list[str]:
    out, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += c == "("
        depth -= c == ")"
        if c == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
    return [*out, text[start:].strip()]


def _match(pattern: str, actual: Type, bound: dict[str, Type]) -> bool:
    if pattern == "dyn":
        return True
    if len(pattern) == 1:  # a type parameter
        if pattern in bound:
            return compatible(bound[pattern], actual)
        bound[pattern] = actual
        return True
    if "(" in pattern:
        kind, inner = pattern.split("(", 1)
        if actual.kind == "dyn":
            return all(_match(p, t.DYN, bound) for p in _split_params(inner[:-1]))
        if actual.kind != kind:
            return False
        params = _split_params(inner[:-1])
        return all(_match(p, a, bound) for p, a in zip(params, actual.params, strict=False))
    return actual.kind in (pattern, "dyn")


def _resolve(pattern: str, bound: dict[str, Type], named: Mapping[str, Type]) -> Type:
    if len(pattern) == 1:
        return bound.get(pattern, t.DYN)
    if "(" in pattern:
        kind, inner = pattern.split("(", 1)
        params = tuple(_resolve(p, bound, named) for p in _split_params(inner[:-1]))
        return Type(kind, params)
    return named[pattern] if pattern in named else _SIMPLE[pattern]


@dataclass(frozen=True)
class Declarations:
    """What an environment adds to the standard functions (a cel.EnvOption's library): member
    functions on its own types (Kubernetes' Authorizer library for admission expressions), and
    those types by name, for the overloads' results."""

    functions: Mapping[str, tuple[Overload, ...]] = field(default_factory=dict)
    types: Mapping[str, Type] = field(default_factory=dict)


NO_DECLARATIONS = Declarations()


def compatible(a: Type, b: Type) -> bool:
    """Whether values of the two types can meet (unify, with dyn as a wildcard)."""
    if a.kind == "dyn" or b.kind == "dyn":
        return True
    if a.kind != b.kind:
        return {a.kind, b.kind} <= {
            "null_type",
            "object",
            "optional",
            "timestamp",
            "duration",
        } and ("null_type" in (a.kind, b.kind))
    if a.kind == "object":
        return True
    return all(compatible(x, y) for x, y in zip(a.params, b.params, strict=False))


def _join(a: Type, b: Type) -> Type:
    return a if a.kind != "dyn" and compatible(a, b) and a == b else t.DYN


class Checker:
    def __init__(
        self, variables: dict[str, Type], declarations: Declarations = NO_DECLARATIONS
    ) -> None:
        self.variables = variables
        self.declarations = declarations
        self.used: set[str] = set()
        self.scopes: list[dict[str, Type]] = []

    def check(self, e: ast.Expr) -> Type:
        method = getattr(self, f"_{type(e).__name__.lower()}")
        result: Type = method(e)
        return result

    # -------------------------------------------------------------- leaves
    def _literal(self, e: ast.Literal) -> Type:
        v = e.value
        if v is None:
            return t.NULL
        if isinstance(v, bool):
            return t.BOOL
        if isinstance(v, int):
            return t.INT
        if isinstance(v, ast.Uint):
            return t.UINT
        if isinstance(v, float):
            return t.DOUBLE
        return t.BYTES if isinstance(v, bytes) else t.STRING

    def _ident(self, e: ast.Ident) -> Type:
        for scope in reversed(self.scopes):
            if e.name in scope:
                return scope[e.name]
        if e.name in self.variables:
            self.used.add(e.name)
            return self.variables[e.name]
        if e.name in _SIMPLE or e.name in ("list", "map"):
            return Type("type")
        raise CheckError(f"undeclared reference to '{e.name}' (in container '')", e.offset)

    def _select(self, e: ast.Select) -> Type:
        # A variable whose name is qualified (authorizer.requestResource) is one identifier.
        if isinstance(e.operand, ast.Ident) and not e.test_only:
            qualified = f"{e.operand.name}.{e.field}"
            shadowed = any(e.operand.name in scope for scope in self.scopes)
            if qualified in self.variables and not shadowed:
                self.used.add(qualified)
                return self.variables[qualified]
        operand = self.check(e.operand)
        optional = operand.kind == "optional"
        if optional:
            operand = operand.elem
        if operand.kind == "dyn":
            field = t.DYN
        elif operand.kind == "map":
            field = operand.params[1]
        elif operand.kind == "object":
            # A reserved word names its escaped field (recognizeKeywordAsFieldName).
            name = e.field if e.field in operand.fields else f"__{e.field}__"
            if name not in operand.fields:
                raise CheckError(f"undefined field '{e.field}'", e.offset)
            field = operand.fields[name]
        else:
            raise CheckError(f"type '{operand}' does not support field selection", e.offset)
        if e.test_only:
            return t.BOOL
        return t.optional_of(field) if e.optional or optional else field

    def _listexpr(self, e: ast.ListExpr) -> Type:
        elem = t.DYN
        for i, x in enumerate(e.elements):
            x_type = self.check(x)
            if i == 0:
                elem = x_type
            elif not compatible(elem, x_type):
                raise CheckError(f"expected type '{elem}' but found '{x_type}'", x.offset)
        return t.list_of(elem)

    def _mapexpr(self, e: ast.MapExpr) -> Type:
        key, value = t.DYN, t.DYN
        for i, (k, v) in enumerate(e.entries):
            k_type, v_type = self.check(k), self.check(v)
            if i == 0:
                key, value = k_type, v_type
            elif not compatible(key, k_type):
                raise CheckError(f"expected type '{key}' but found '{k_type}'", k.offset)
            elif not compatible(value, v_type):
                raise CheckError(f"expected type '{value}' but found '{v_type}'", v.offset)
        return t.map_of(key, value)

    def _macro(self, e: ast.Macro) -> Type:
        target = self.check(e.target)
        if target.kind == "list":
            var = target.elem
        elif target.kind == "map":
            var = target.params[0]
        elif target.kind == "dyn":
            var = t.DYN
        else:
            raise CheckError(
                f"found no matching overload for '{e.kind}' applied to '{target}.(...)'", e.offset
            )
        self.scopes.append({e.var: var})
        try:
            arg_types = [self.check(a) for a in e.args]
        finally:
            self.scopes.pop()
        if e.kind == "map":
            if len(e.args) == 2:
                self._require_bool(arg_types[0], e.args[0], "filter")
            return t.list_of(arg_types[-1])
        self._require_bool(arg_types[0], e.args[0], e.kind)
        return t.list_of(var) if e.kind == "filter" else t.BOOL

    def _require_bool(self, actual: Type, e: ast.Expr, what: str) -> None:
        if actual.kind not in ("bool", "dyn"):
            raise CheckError(f"expected type 'bool' but found '{actual}'", e.offset)

    # -------------------------------------------------------------- calls and operators
    def _call(self, e: ast.Call) -> Type:
        target = e.target
        if isinstance(target, ast.Ident) and f"{target.name}.{e.function}" in SIGNATURES:
            if not any(target.name in s for s in self.scopes) and target.name not in self.variables:
                return self._function(f"{target.name}.{e.function}", None, e)
        operator = _OPERATORS.get(e.function)
        if operator is not None:
            args = [self.check(a) for a in e.args]
            result = operator(args)
            if result is None:
                shown = ", ".join(str(a) for a in args)
                raise CheckError(
                    f"found no matching overload for '{e.function}' applied to '({shown})'",
                    e.offset,
                )
            return result
        return self._function(e.function, target, e)

    def _function(self, name: str, target: ast.Expr | None, e: ast.Call) -> Type:
        receiver = self.check(target) if target is not None else None
        args = [self.check(a) for a in e.args]
        declared = self.declarations.functions.get(name, ())
        if name in NOT_SUPPORTED and not declared:
            raise CheckError(f"podplane does not support the CEL function '{name}'", e.offset)
        overloads = [*declared, *SIGNATURES.get(name, ())] or None
        if overloads is None:
            raise CheckError(f"undeclared reference to '{name}' (in container '')", e.offset)
        for overload in overloads:
            result = self._apply(overload, receiver, args)
            if result is not None:
                return result
        shown = ", ".join(str(a) for a in args)
        applied = f"{receiver}.({shown})" if receiver is not None else f"({shown})"
        raise CheckError(
            f"found no matching overload for '{name}' applied to '{applied}'", e.offset
        )

    def _apply(self, o: Overload, receiver: Type | None, args: list[Type]) -> Type | None:
        if (o.receiver is None) != (receiver is None) or len(o.params) != len(args):
            return None
        bound: dict[str, Type] = {}
        if (
            o.receiver is not None
            and receiver is not None
            and not _match(o.receiver, receiver, bound)
        ):
            return None
        if not all(_match(p, a, bound) for p, a in zip(o.params, args, strict=True)):
            return None
        return _resolve(o.result, bound, self.declarations.types)


def _logic(args: list[Type]) -> Type | None:
    return t.BOOL if all(a.kind in ("bool", "dyn") for a in args) else None


def _negate(args: list[Type]) -> Type | None:
    return args[0] if args[0].kind in ("int", "double", "duration", "dyn") else None


def _equality(args: list[Type]) -> Type | None:
    return t.BOOL if compatible(args[0], args[1]) else None


def _ordering(args: list[Type]) -> Type | None:
    a, b = args
    if "dyn" in (a.kind, b.kind) or (a.kind in _NUMERIC and b.kind in _NUMERIC):
        return t.BOOL
    return t.BOOL if a.kind == b.kind and a.kind in _ORDERED else None


def _arithmetic(op: str) -> Callable[[list[Type]], Type | None]:
    def check(args: list[Type]) -> Type | None:
        a, b = args
        if "dyn" in (a.kind, b.kind):
            return b if a.kind == "dyn" and op != "-" else a if b.kind == "dyn" else t.DYN
        if a.kind == b.kind and a.kind in _NUMERIC and (op != "%" or a.kind != "double"):
            return a
        if op == "+" and a.kind == b.kind and a.kind in ("string", "bytes"):
            return a
        if op == "+" and a.kind == b.kind == "list":
            return a if compatible(a, b) else None
        kinds = (a.kind, b.kind)
        if op == "+" and kinds in (("timestamp", "duration"), ("duration", "timestamp")):
            return t.TIMESTAMP
        if op in "+-" and kinds == ("duration", "duration"):
            return t.DURATION
        if op == "-" and kinds == ("timestamp", "timestamp"):
            return t.DURATION
        if op == "-" and kinds == ("timestamp", "duration"):
            return t.TIMESTAMP
        return None

    return check


def _in(args: list[Type]) -> Type | None:
    elem, container = args
    if container.kind == "dyn":
        return t.BOOL
    if container.kind in ("list", "map"):
        return t.BOOL if compatible(elem, container.params[0]) else None
    return None


def _index(args: list[Type], optional: bool = False) -> Type | None:
    container, key = args
    if container.kind == "optional":
        container, optional = container.elem, True
    if container.kind == "dyn":
        result = t.DYN
    elif container.kind == "list" and key.kind in ("int", "uint", "dyn"):
        result = container.elem
    elif container.kind == "map" and compatible(container.params[0], key):
        result = container.params[1]
    else:
        return None
    return t.optional_of(result) if optional else result


def _conditional(args: list[Type]) -> Type | None:
    cond, a, b = args
    if cond.kind not in ("bool", "dyn") or not compatible(a, b):
        return None
    return _join(a, b)


_OPERATORS: dict[str, Callable[[list[Type]], Type | None]] = {
    "_&&_": _logic,
    "_||_": _logic,
    "!_": _logic,
    "-_": _negate,
    "_==_": _equality,
    "_!=_": _equality,
    "_<_": _ordering,
    "_<=_": _ordering,
    "_>_": _ordering,
    "_>=_": _ordering,
    "_+_": _arithmetic("+"),
    "_-_": _arithmetic("-"),
    "_*_": _arithmetic("*"),
    "_/_": _arithmetic("/"),
    "_%_": _arithmetic("%"),
    "@in": _in,
    "_[_]": _index,
    "_[?_]": lambda args: _index(args, optional=True),
    "_?_:_": _conditional,
}
