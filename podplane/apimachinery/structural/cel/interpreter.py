"""Evaluation of a checked CEL expression over CEL values (values.py): CEL's semantics for the
subset podplane supports, with cel-go's error messages (`no such key: foo`, `division by zero`,
`integer overflow`). `&&` and `||` are commutative over errors as CEL defines them (`error &&
false` is false), and so are all() and exists()."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from podplane.apimachinery.structural.cel import ast
from podplane.apimachinery.structural.cel.library import IMPLEMENTATIONS, SIGNATURES
from podplane.apimachinery.structural.cel.runtime import (
    CelObject,
    CelType,
    CelValue,
    EvalError,
    Optional,
    check_int,
    no_overload,
    type_name,
)
from podplane.apimachinery.structural.cel.values import compare, equal

_TYPE_NAMES = {"int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type"}
_TYPE_NAMES |= {"timestamp", "duration", "type", "dyn"}
_RESERVED = {"true", "false", "null", "in", "as", "break", "const", "continue", "else", "for"}
_RESERVED |= {"function", "if", "import", "let", "loop", "package", "namespace", "return"}
_RESERVED |= {"var", "void", "while"}
_UNESCAPES = {"__underscores__": "__", "__dot__": ".", "__dash__": "-", "__slash__": "/"}


def unescape(name: str) -> str:
    """A CEL field name back to its property name (Kubernetes' Unescape)."""
    if "__" not in name:  # every escape has it: most names are their property's
        return name
    if name.startswith("__") and name.endswith("__") and name[2:-2] in _RESERVED:
        return name[2:-2]
    out, i = [], 0
    while i < len(name):
        for escaped, plain in _UNESCAPES.items():
            if name.startswith(escaped, i):
                out.append(plain)
                i += len(escaped)
                break
        else:
            out.append(name[i])
            i += 1
    return "".join(out)


class Interpreter:
    def __init__(self, variables: dict[str, CelValue]) -> None:
        self.variables = variables
        self.scopes: list[dict[str, CelValue]] = []

    def eval(self, e: ast.Expr) -> CelValue:
        method: Callable[[CelValue], CelValue] = getattr(self, f"_{type(e).__name__.lower()}")
        return method(e)

    def _literal(self, e: ast.Literal) -> CelValue:
        return e.value

    def _ident(self, e: ast.Ident) -> CelValue:
        for scope in reversed(self.scopes):
            if e.name in scope:
                return scope[e.name]
        if e.name in self.variables:
            return self.variables[e.name]
        if e.name in _TYPE_NAMES:
            return CelType(e.name)
        raise EvalError(f"no such attribute: {e.name}")

    def _select(self, e: ast.Select) -> CelValue:
        # A variable whose name is qualified (authorizer.requestResource) is one identifier.
        if isinstance(e.operand, ast.Ident) and not e.test_only:
            qualified = f"{e.operand.name}.{e.field}"
            shadowed = any(e.operand.name in scope for scope in self.scopes)
            if qualified in self.variables and not shadowed:
                return self.variables[qualified]
        operand = self.eval(e.operand)
        wrap = e.optional
        if isinstance(operand, Optional):
            if not operand.present:
                return Optional()
            operand, wrap = operand.value, True
        if not isinstance(operand, dict):
            raise EvalError(f"no such overload: select '{e.field}' on {type_name(operand)}")
        key = unescape(e.field)
        if e.test_only:
            return key in operand
        if key not in operand:
            if wrap:
                return Optional()
            raise EvalError(f"no such key: {e.field}")
        return Optional(operand[key], True) if wrap else operand[key]

    def _listexpr(self, e: ast.ListExpr) -> CelValue:
        return [self.eval(x) for x in e.elements]

    def _mapexpr(self, e: ast.MapExpr) -> CelValue:
        return {self.eval(k): self.eval(v) for k, v in e.entries}

    # -------------------------------------------------------------- macros
    def _macro(self, e: ast.Macro) -> CelValue:
        target = self.eval(e.target)
        if not isinstance(target, list | dict):
            raise no_overload(e.kind, target)
        items = list(target)
        results: list[CelValue] = []
        error: EvalError | None = None
        for item in items:
            self.scopes.append({e.var: item})
            try:
                first = self.eval(e.args[0])
                # map(x, predicate, transform) transforms only what the predicate keeps.
                rest = (
                    [self.eval(a) for a in e.args[1:]] if first is True or e.kind != "map" else []
                )
                results.append((first, *rest))
            except EvalError as err:
                if e.kind not in ("all", "exists"):
                    raise
                error = error or err
                results.append(None)
            finally:
                self.scopes.pop()
        if e.kind == "all":
            if any(r is not None and r[0] is False for r in results):
                return False
            if error is not None:
                raise error
            return True
        if e.kind == "exists":
            if any(r is not None and r[0] is True for r in results):
                return True
            if error is not None:
                raise error
            return False
        if e.kind == "exists_one":
            return sum(1 for r in results if r[0] is True) == 1
        if e.kind == "filter":
            return [item for item, r in zip(items, results, strict=True) if r[0] is True]
        if len(e.args) == 2:  # map(x, predicate, transform)
            return [r[1] for r in results if r[0] is True]
        return [r[0] for r in results]

    # -------------------------------------------------------------- calls
    def _call(self, e: ast.Call) -> CelValue:
        name = e.function
        if name in ("_&&_", "_||_"):
            return self._logic(e)
        if name == "_?_:_":
            cond = self.eval(e.args[0])
            if not isinstance(cond, bool):
                raise no_overload("_?_:_", cond)
            return self.eval(e.args[1] if cond else e.args[2])
        target = e.target
        if isinstance(target, ast.Ident) and f"{target.name}.{name}" in SIGNATURES:
            if not any(target.name in s for s in self.scopes) and target.name not in self.variables:
                return self._function(f"{target.name}.{name}", [self.eval(a) for a in e.args])
        args = [self.eval(a) for a in e.args]
        operator = _OPERATORS.get(name)
        if operator is not None:
            return operator(*args)
        if target is not None:
            args = [self.eval(target), *args]
        return self._function(name, args)

    def _function(self, name: str, args: list[CelValue]) -> CelValue:
        if args and isinstance(args[0], CelObject):  # an environment's own type's member
            return args[0].call(name, args[1:])
        implementation = IMPLEMENTATIONS.get(name)
        if implementation is None:
            raise EvalError(f"no such overload: {name}")
        try:
            return implementation(*args)
        except (TypeError, AttributeError, KeyError) as e:
            raise no_overload(name, *args) from e

    def _logic(self, e: ast.Call) -> CelValue:
        decisive = e.function == "_||_"  # true decides ||, false decides &&
        error: EvalError | None = None
        for arg in e.args:
            try:
                value = self.eval(arg)
            except EvalError as err:
                error = error or err
                continue
            if not isinstance(value, bool):
                error = error or no_overload(e.function, value)
            elif value is decisive:
                return decisive
        if error is not None:
            raise error
        return not decisive


def _add(a: CelValue, b: CelValue) -> CelValue:
    if isinstance(a, bool) or isinstance(b, bool):
        raise no_overload("_+_", a, b)
    if type(a) is type(b) and isinstance(a, int):
        return check_int(a + b)
    if isinstance(a, ast.Uint) and isinstance(b, ast.Uint):
        return ast.Uint(a.value + b.value)
    if (type(a), type(b)) in ((float, float), (str, str), (bytes, bytes), (list, list)):
        return a + b
    if isinstance(a, datetime | timedelta) and isinstance(b, timedelta):
        return a + b
    if isinstance(a, timedelta) and isinstance(b, datetime):
        return b + a
    raise no_overload("_+_", a, b)


def _subtract(a: CelValue, b: CelValue) -> CelValue:
    if isinstance(a, bool) or isinstance(b, bool):
        raise no_overload("_-_", a, b)
    if type(a) is type(b) and isinstance(a, int):
        return check_int(a - b)
    if isinstance(a, ast.Uint) and isinstance(b, ast.Uint):
        if b.value > a.value:
            raise EvalError("unsigned integer overflow")
        return ast.Uint(a.value - b.value)
    if (type(a), type(b)) in ((float, float),) or (
        isinstance(a, datetime | timedelta) and isinstance(b, timedelta)
    ):
        return a - b
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a - b
    raise no_overload("_-_", a, b)


def _multiply(a: CelValue, b: CelValue) -> CelValue:
    if type(a) is type(b) and type(a) is int:
        return check_int(a * b)
    if type(a) is type(b) and type(a) is float:
        return a * b
    if isinstance(a, ast.Uint) and isinstance(b, ast.Uint):
        return ast.Uint(a.value * b.value)
    raise no_overload("_*_", a, b)


def _divide(a: CelValue, b: CelValue, modulo: bool = False) -> CelValue:
    op = "_%_" if modulo else "_/_"
    if type(a) is type(b) and type(a) is float and not modulo:
        return a / b if b else (float("nan") if a == 0 else float("inf") * (1 if a > 0 else -1))
    ints = type(a) is type(b) and type(a) is int
    uints = isinstance(a, ast.Uint) and isinstance(b, ast.Uint)
    if not ints and not uints:
        raise no_overload(op, a, b)
    x, y = (a.value, b.value) if uints else (a, b)
    if y == 0:
        raise EvalError("modulus by zero" if modulo else "division by zero")
    quotient = abs(x) // abs(y) * (1 if (x >= 0) == (y >= 0) else -1)  # Go truncates
    result = x - y * quotient if modulo else quotient
    return ast.Uint(result) if uints else check_int(result)


def _negate(a: CelValue) -> CelValue:
    if type(a) is int:
        return check_int(-a)
    if type(a) is float or isinstance(a, timedelta):
        return -a
    raise no_overload("-_", a)


def _not(a: CelValue) -> bool:
    if not isinstance(a, bool):
        raise no_overload("!_", a)
    return not a


def _in(x: CelValue, container: CelValue) -> bool:
    if isinstance(container, list):
        return any(equal(x, item) for item in container)
    if isinstance(container, dict):
        return x in container
    raise no_overload("@in", x, container)


def _index(container: CelValue, key: CelValue, optional: bool = False) -> CelValue:
    if isinstance(container, Optional):
        if not container.present:
            return Optional()
        container, optional = container.value, True
    if isinstance(container, list):
        i = key.value if isinstance(key, ast.Uint) else key
        if isinstance(i, float) and i.is_integer():
            i = int(i)
        if not isinstance(i, int) or isinstance(i, bool):
            raise no_overload("_[_]", container, key)
        if not 0 <= i < len(container):
            if optional:
                return Optional()
            raise EvalError(f"index out of bounds: {i}")
        return Optional(container[i], True) if optional else container[i]
    if isinstance(container, dict):
        if key not in container:
            if optional:
                return Optional()
            raise EvalError(f"no such key: {key}")
        return Optional(container[key], True) if optional else container[key]
    raise no_overload("_[_]", container, key)


_OPERATORS: dict[str, Callable[..., CelValue]] = {
    "!_": _not,
    "-_": _negate,
    "_==_": equal,
    "_!=_": lambda a, b: not equal(a, b),
    "_<_": lambda a, b: compare(a, b, "_<_") < 0,
    "_<=_": lambda a, b: compare(a, b, "_<=_") <= 0,
    "_>_": lambda a, b: compare(a, b, "_>_") > 0,
    "_>=_": lambda a, b: compare(a, b, "_>=_") >= 0,
    "_+_": _add,
    "_-_": _subtract,
    "_*_": _multiply,
    "_/_": _divide,
    "_%_": lambda a, b: _divide(a, b, modulo=True),
    "@in": _in,
    "_[_]": _index,
    "_[?_]": lambda c, k: _index(c, k, optional=True),
}
