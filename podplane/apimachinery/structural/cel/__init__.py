"""A CEL subset for x-kubernetes-validations (see library.py for its functions): parse, check
against the variables' types, evaluate. `compile_expression` raises CompileError with cel-go's
display of the problem:

    ERROR: <input>:1:5: undefined field 'foo'
     | self.foo
     | ....^
"""

from __future__ import annotations

from dataclasses import dataclass

from podplane.apimachinery.structural.cel import ast
from podplane.apimachinery.structural.cel.checker import (
    NO_DECLARATIONS,
    Checker,
    CheckError,
    Declarations,
)
from podplane.apimachinery.structural.cel.interpreter import Interpreter
from podplane.apimachinery.structural.cel.runtime import CelValue, EvalError, Optional
from podplane.apimachinery.structural.cel.syntax import CELSyntaxError, parse
from podplane.apimachinery.structural.cel.types import Type

__all__ = [
    "CompileError",
    "Declarations",
    "EvalError",
    "Optional",
    "Program",
    "compile_expression",
]


class CompileError(ValueError):
    """The expression does not compile; str() is cel-go's issues.String()."""


def _display(source: str, offset: int, message: str) -> str:
    line_start = source.rfind("\n", 0, offset) + 1
    line_end = source.find("\n", offset)
    line_text = source[line_start : line_end if line_end >= 0 else len(source)]
    line = source.count("\n", 0, offset) + 1
    column = offset - line_start
    return f"ERROR: <input>:{line}:{column + 1}: {message}\n | {line_text}\n | {'.' * column}^"


@dataclass(frozen=True)
class Program:
    source: str
    expr: ast.Expr
    type: Type
    variables_used: frozenset[str]

    def evaluate(self, variables: dict[str, CelValue]) -> CelValue:
        """The expression's value; raises EvalError."""
        return Interpreter(variables).eval(self.expr)


def compile_expression(
    source: str, variables: dict[str, Type], declarations: Declarations = NO_DECLARATIONS
) -> Program:
    """The checked program; `declarations` add an environment's own functions and types."""
    try:
        expr = ast.expand_macros(parse(source))
        checker = Checker(variables, declarations)
        result = checker.check(expr)
    except (CELSyntaxError, CheckError, ast.MacroError) as e:
        raise CompileError(_display(source, e.offset, str(e))) from e
    return Program(source, expr, result, frozenset(checker.used))
