"""Go's regexp syntax (RE2) on Python's `re`: schemas' `pattern`s are Go regular expressions.

`compile_go_regexp` parses the Go syntax, refuses what Go's regexp.Compile refuses with Go's
message (`error parsing regexp: missing closing ): `(a``), and writes the equivalent Python
pattern, so that a pattern matches the strings Go's matches:

- `$` (without the m flag) is the end of the text, `\\z` too (Python's `$` also matches before a
  trailing newline; `\\Z` is Go's syntax error);
- `\\d`, `\\w`, `\\s` and `\\b` are ASCII, as Go's are (`\\s` is `[\\t\\n\\f\\r ]`);
- POSIX classes (`[[:alpha:]]`), `\\Q...\\E`, `\\x{...}`, octal escapes, `(?<name>...)` and flag
  groups in the middle of a pattern (`a(?i)b`) are rewritten into Python's forms;
- lookarounds, backreferences, atomic groups and possessive repetitions, which Python has and Go
  has not, are Go's syntax errors.

Not supported (refused with UnsupportedRegexError, which a CRD's validation reports): Unicode
classes (`\\pL`, `\\p{Greek}`), the U (ungreedy) flag, and negated POSIX classes inside a
bracket (`[[:^alpha:]x]`). Python's `re` backtracks where Go's engine runs in linear time, so
a pathological pattern is slower here, never different."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

_ERROR_PREFIX = "error parsing regexp: "
_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_PERL_CLASSES = {"d": "0-9", "w": "0-9A-Za-z_", "s": "\\t\\n\\f\\r "}
_SIMPLE_ESCAPES = {"a": "\\x07", "f": "\\x0c", "t": "\\t", "n": "\\n", "r": "\\r", "v": "\\x0b"}
_MAX_REPEAT = 1000
_NAME = re.compile(r"[A-Za-z0-9_]+")


@dataclass
class _Frame:
    """An open group: whether `$` is a line end in it, and the flag groups `(?i)` opened in
    it, which close with it."""

    multiline: bool
    flag_groups: list[str] = field(default_factory=list)


class RegexError(ValueError):
    """The pattern is not a Go regular expression; str() is regexp.Compile's error."""


class UnsupportedRegexError(RegexError):
    """A Go regular expression that podplane cannot evaluate."""


def _error(code: str, fragment: str) -> RegexError:
    return RegexError(f"{_ERROR_PREFIX}{code}: `{fragment}`")


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.src = pattern
        self.pos = 0
        self.out: list[str] = []
        self.frames = [_Frame(False)]
        self.can_repeat = False
        self.last_op: tuple[int, int] | None = None  # where the last repetition operator is

    # -------------------------------------------------------------- driver
    def translate(self) -> str:
        while self.pos < len(self.src):
            self.step()
        if len(self.frames) > 1:
            raise _error("missing closing )", self.src)
        self.close_flag_groups()
        return "".join(self.out)

    def step(self) -> None:
        c = self.src[self.pos]
        if c in "*+?{":
            self.repetition(c)
            return
        self.can_repeat = True
        if c == "(":
            self.group()
        elif c == ")":
            self.close_group()
        elif c == "|":
            self.pos += 1
            self.close_flag_groups(reopen=True, emit="|")
            self.can_repeat = False
        elif c == "[":
            self.out.append(self.char_class())
        elif c == "\\":
            self.escape()
        elif c == "$":
            self.pos += 1
            self.out.append("$" if self.frames[-1].multiline else "\\Z")
        elif c in "^.":
            self.pos += 1
            self.out.append(c)
        else:
            self.pos += 1
            self.out.append(re.escape(c))

    # -------------------------------------------------------------- repetition
    def repetition(self, c: str) -> None:
        start = self.pos
        if c == "{":
            match = re.match(r"\{(\d+)(,(\d*))?\}", self.src[self.pos :])
            if match is None:  # not a repeat: a literal brace, as in Go
                self.pos += 1
                self.out.append("\\{")
                self.can_repeat = True
                return
            low, high = int(match.group(1)), match.group(3)
            if low > _MAX_REPEAT or (high and (int(high) > _MAX_REPEAT or int(high) < low)):
                raise _error("invalid repeat count", match.group(0))
            self.pos += len(match.group(0))
            op = match.group(0)
        else:
            self.pos += 1
            op = c
        if self.pos < len(self.src) and self.src[self.pos] == "?":
            self.pos += 1
            op += "?"
        if self.last_op is not None and self.last_op[1] == start:
            raise _error("invalid nested repetition operator", self.src[self.last_op[0] : self.pos])
        if not self.can_repeat:
            raise _error("missing argument to repetition operator", self.src[start : self.pos])
        self.last_op = (start, self.pos)
        self.can_repeat = False
        self.out.append(op)

    # -------------------------------------------------------------- groups and flags
    def group(self) -> None:
        rest = self.src[self.pos :]
        if not rest.startswith("(?"):
            self.pos += 1
            self.open_frame("(")
            return
        for prefix in ("(?P<", "(?<"):
            if rest.startswith(prefix):
                end = rest.find(">")
                name = rest[len(prefix) : end] if end >= 0 else ""
                if end < 0 or not _NAME.fullmatch(name):
                    if prefix == "(?<" and rest.startswith(("(?<=", "(?<!")):
                        raise _error("invalid or unsupported Perl syntax", rest[:3])
                    raise _error("invalid named capture", rest[: end + 1] if end >= 0 else rest)
                self.pos += end + 1
                self.open_frame(f"(?P<{name}>")
                return
        match = re.match(r"\(\?([imsU]*)(-([imsU]*))?([:)])", rest)
        if match is None or (match.group(2) and not match.group(3)):
            bad = match.group(0) if match else rest[:3]
            raise _error("invalid or unsupported Perl syntax", bad)
        on, off, closer = match.group(1), match.group(3) or "", match.group(4)
        if "U" in on + off:
            raise UnsupportedRegexError(
                "the U (ungreedy) flag of Go's regular expressions is not supported"
            )
        self.pos += len(match.group(0))
        flags = on + (f"-{off}" if off else "")
        frame = self.frames[-1]
        multiline = True if "m" in on else False if "m" in off else frame.multiline
        if closer == ":":
            self.open_frame(f"(?{flags}:" if flags else "(?:", multiline)
        else:  # (?flags): the rest of the enclosing group, as a scoped flag group
            self.can_repeat = False
            if flags:
                frame.flag_groups.append(f"(?{flags}:")
                frame.multiline = multiline
                self.out.append(frame.flag_groups[-1])

    def open_frame(self, text: str, multiline: bool | None = None) -> None:
        self.out.append(text)
        inherited = self.frames[-1].multiline if multiline is None else multiline
        self.frames.append(_Frame(inherited))
        self.can_repeat = False

    def close_group(self) -> None:
        if len(self.frames) == 1:
            raise _error("unexpected )", self.src)
        self.pos += 1
        self.close_flag_groups()
        self.frames.pop()
        self.out.append(")")
        self.can_repeat = True

    def close_flag_groups(self, reopen: bool = False, emit: str = "") -> None:
        """Close the flag groups `(?i)` opened in the current group: at its end, or around an
        alternation (`a(?i)b|c` is `a(?i:b)|(?i:c)`)."""
        frame = self.frames[-1]
        self.out.append(")" * len(frame.flag_groups) + emit)
        if reopen:
            self.out.extend(frame.flag_groups)
        else:
            frame.flag_groups = []

    # -------------------------------------------------------------- escapes
    def escape(self) -> None:
        text, is_class = self.escape_text(in_class=False)
        self.out.append(f"[{text}]" if is_class else text)

    def escape_text(self, in_class: bool) -> tuple[str, bool]:
        """The Python text of the escape at pos, and whether it is a class's body."""
        src, start = self.src, self.pos
        if start + 1 >= len(src):
            raise _error("trailing backslash at end of expression", "")
        c = src[start + 1]
        self.pos += 2
        if c in _PERL_CLASSES:
            return _PERL_CLASSES[c], True
        if c.lower() in _PERL_CLASSES:
            if in_class:
                raise UnsupportedRegexError(f"\\{c} inside a character class is not supported")
            return "^" + _PERL_CLASSES[c.lower()], True
        if c in "pP":
            raise UnsupportedRegexError(
                f"Unicode character classes (\\{c}) in regular expressions are not supported"
            )
        if not in_class and c in "AbBz":
            return {"A": "\\A", "b": "(?a:\\b)", "B": "(?a:\\B)", "z": "\\Z"}[c], False
        if c == "Q" and not in_class:
            end = src.find("\\E", self.pos)
            literal = src[self.pos :] if end < 0 else src[self.pos : end]
            self.pos = len(src) if end < 0 else end + 2
            return re.escape(literal), False
        if c in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[c], False
        if c == "x":
            return self.hex_escape(start), False
        if c in "01234567" and (c == "0" or src[self.pos : self.pos + 1] in tuple("01234567")):
            digits = re.match(r"[0-7]{0,2}", src[self.pos :])
            value = int(c + (digits.group(0) if digits else ""), 8)
            self.pos += len(digits.group(0)) if digits else 0
            return _char(chr(value)), False
        if c.isascii() and not c.isalnum() and c != "_":
            return re.escape(c), False
        raise _error("invalid escape sequence", src[start : self.pos])

    def hex_escape(self, start: int) -> str:
        src = self.src
        if src[self.pos : self.pos + 1] == "{":
            end = src.find("}", self.pos)
            digits = src[self.pos + 1 : end] if end > 0 else ""
            if end < 0 or not re.fullmatch(r"[0-9A-Fa-f]+", digits) or int(digits, 16) > 0x10FFFF:
                raise _error("invalid escape sequence", src[start : end + 1 if end > 0 else None])
            self.pos = end + 1
            return _char(chr(int(digits, 16)))
        digits = src[self.pos : self.pos + 2]
        if not re.fullmatch(r"[0-9A-Fa-f]{2}", digits):
            raise _error("invalid escape sequence", src[start : self.pos + len(digits)])
        self.pos += 2
        return _char(chr(int(digits, 16)))

    # -------------------------------------------------------------- classes
    def char_class(self) -> str:
        src, start = self.src, self.pos
        self.pos += 1
        negated = src[self.pos : self.pos + 1] == "^"
        self.pos += negated
        parts: list[str] = []
        first = True
        while True:
            if self.pos >= len(src):
                raise _error("missing closing ]", src[start:])
            c = src[self.pos]
            if c == "]" and not first:
                self.pos += 1
                break
            first = False
            posix = re.match(r"\[:(\^?)([a-z]+):\]", src[self.pos :])
            if posix:
                if posix.group(2) not in _POSIX:
                    raise _error("invalid character class range", posix.group(0))
                if posix.group(1):
                    raise UnsupportedRegexError("negated POSIX classes are not supported")
                parts.append(_POSIX[posix.group(2)])
                self.pos += len(posix.group(0))
                continue
            low_start = self.pos
            low, is_class = self.class_char()
            if is_class:
                parts.append(low)
                continue
            if src[self.pos : self.pos + 1] == "-" and src[self.pos + 1 : self.pos + 2] not in (
                "]",
                "",
            ):
                self.pos += 1
                high, high_class = self.class_char()
                if high_class or _ord(high) < _ord(low):
                    raise _error("invalid character class range", src[low_start : self.pos])
                parts.append(f"{low}-{high}")
            else:
                parts.append(low)
        return "[" + ("^" if negated else "") + "".join(parts) + "]"

    def class_char(self) -> tuple[str, bool]:
        c = self.src[self.pos]
        if c == "\\":
            return self.escape_text(in_class=True)
        self.pos += 1
        return _char(c), False


def _char(c: str) -> str:
    """One character, escaped for use anywhere in a Python pattern, inside a class too."""
    if c.isalnum() or c == "_":
        return c
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\U{ord(c):08x}"


def _ord(text: str) -> int:
    """The code point of one character as _char or an escape wrote it."""
    if text.startswith("\\x"):
        return int(text[2:], 16)
    if text.startswith("\\U"):
        return int(text[2:], 16)
    if text.startswith("\\") and len(text) == 2:
        return ord({"t": "\t", "n": "\n", "r": "\r"}.get(text[1], text[1]))
    return ord(text)


@functools.lru_cache(maxsize=1024)
def compile_go_regexp(pattern: str) -> re.Pattern[str]:
    """The Python regular expression that matches what Go's regexp.MustCompile(pattern) matches
    (search semantics: MatchString). Raises RegexError with Go's message for what Go refuses,
    UnsupportedRegexError for Go syntax podplane cannot evaluate."""
    translated = _Translator(pattern).translate()
    try:
        return re.compile(translated)
    except re.error as e:  # Go accepts it, Python does not (an empty-width repetition, say)
        raise UnsupportedRegexError(f"regular expression not supported by podplane: {e}") from e
