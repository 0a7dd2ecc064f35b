"""The parameter and port list of an rtl_lib module, read from its SystemVerilog header.

A primitive's ports are declared once, in its `.sv` file; the structural emitter (accel-to-hw)
asks for them with concrete parameters instead of keeping a second, hand-written copy. The
headers follow one ANSI style (`module m #(parameter int P = default, ...) (input logic [msb:0]
name, ...);`), and widths are constant expressions over the parameters: integers, + - * / %,
<< >>, comparisons, `?:`, parentheses and `$clog2`, which `eval_const` evaluates exactly as SV
does for non-negative integers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_TOKEN = re.compile(r"\s*(\$clog2|\d+|[A-Za-z_]\w*|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%()<>?:])")


class HeaderError(ValueError):
    """A header or width expression this reader does not understand (names the module)."""


def clog2(n: int) -> int:
    """SV's $clog2: the bits needed to count n values (0 for n <= 1)."""
    return 0 if n <= 1 else (n - 1).bit_length()


def eval_const(expr: str, env: Mapping[str, int]) -> int:
    """Value of an SV constant expression over the integer parameters `env`."""
    toks = _tokens(expr)
    pos = 0

    def peek() -> str | None:
        return toks[pos] if pos < len(toks) else None

    def take(expected: str | None = None) -> str:
        nonlocal pos
        tok = peek()
        if tok is None or (expected is not None and tok != expected):
            raise HeaderError(f"constant expression {expr!r}: expected {expected or 'more'}")
        pos += 1
        return tok

    def primary() -> int:
        tok = take()
        if tok == "(":
            v = ternary()
            take(")")
            return v
        if tok == "$clog2":
            take("(")
            v = ternary()
            take(")")
            return clog2(v)
        if tok == "-":
            return -primary()
        if tok.isdigit():
            return int(tok)
        if tok in env:
            return int(env[tok])
        raise HeaderError(f"constant expression {expr!r}: unknown name {tok!r}")

    levels = [
        {"*": lambda a, b: a * b, "/": lambda a, b: a // b, "%": lambda a, b: a % b},
        {"+": lambda a, b: a + b, "-": lambda a, b: a - b},
        {"<<": lambda a, b: a << b, ">>": lambda a, b: a >> b},
        {
            "<": lambda a, b: int(a < b),
            ">": lambda a, b: int(a > b),
            "<=": lambda a, b: int(a <= b),
            ">=": lambda a, b: int(a >= b),
        },
        {"==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b)},
        {"&&": lambda a, b: int(bool(a) and bool(b))},
        {"||": lambda a, b: int(bool(a) or bool(b))},
    ]

    def binary(level: int) -> int:
        if level < 0:
            return primary()
        v = binary(level - 1)
        while peek() in levels[level]:
            op = take()
            v = levels[level][op](v, binary(level - 1))
        return v

    def ternary() -> int:
        cond = binary(len(levels) - 1)
        if peek() != "?":
            return cond
        take("?")
        a = ternary()
        take(":")
        b = ternary()
        return a if cond else b

    value = ternary()
    if pos != len(toks):
        raise HeaderError(f"constant expression {expr!r}: unexpected {toks[pos]!r}")
    return value


def _tokens(expr: str) -> list[str]:
    out, i = [], 0
    while i < len(expr):
        if expr[i:].strip() == "":
            break
        m = _TOKEN.match(expr, i)
        if m is None:
            raise HeaderError(f"constant expression {expr!r}: cannot read {expr[i:]!r}")
        out.append(m.group(1))
        i = m.end()
    return out


@dataclass(frozen=True)
class PortDecl:
    name: str
    is_input: bool
    msb: str | None  # None: a one-bit port
    lsb: str | None

    def width(self, env: Mapping[str, int]) -> int:
        if self.msb is None:
            return 1
        return eval_const(self.msb, env) - eval_const(self.lsb or "0", env) + 1


@dataclass(frozen=True)
class Header:
    module: str
    params: tuple[tuple[str, str], ...]  # (name, default expression), in order
    ports: tuple[PortDecl, ...]
    # localparams of the module body (a port width may name one, e.g. TOK_W = $clog2(TOK))
    locals_: tuple[tuple[str, str], ...] = ()

    def env(self, overrides: Mapping[str, int | str]) -> dict[str, int]:
        """Every integer parameter's value: the overrides, else the default (which may name
        earlier parameters, as SV allows)."""
        env: dict[str, int] = {}
        for name, default in self.params:
            if name in overrides:
                value = overrides[name]
                if isinstance(value, int):
                    env[name] = value
                continue
            if default.startswith('"'):
                continue  # a string parameter (a file name): never a width
            env[name] = eval_const(default, env)
        for name, expr in self.locals_:
            try:
                env[name] = eval_const(expr, env)
            except HeaderError:
                continue  # not a constant this reader evaluates: no port width may use it
        return env


def _split_top(text: str) -> list[str]:
    """Split on commas outside brackets and parentheses."""
    items, depth, cur = [], 0, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        items.append("".join(cur))
    return items


_LOCALPARAM = re.compile(r"^\s*localparam\s+(?:int\s+|integer\s+)?(\w+)\s*=\s*([^;]+);", re.M)
_PARAM = re.compile(r"^\s*parameter\s+(?:int\s+|integer\s+)?(\w+)\s*=\s*(.+?)\s*$", re.S)
_PORT = re.compile(
    r"^\s*(?:(input|output)\s+)?(?:(?:logic|wire)\s+)?(?:signed\s+)?"
    r"(?:\[(.+)\]\s*)?(\w+)\s*$",
    re.S,
)


@cache
def read_header(path: Path, module: str) -> Header:
    """Parse `module`'s header in `path` (cached per file and module)."""
    text = _COMMENT.sub("", path.read_text())
    m = re.search(rf"\bmodule\s+{re.escape(module)}\b\s*(#\s*\()?", text)
    if m is None:
        raise HeaderError(f"{path.name}: no module {module!r}")
    i = m.end()
    params: list[tuple[str, str]] = []
    if m.group(1):
        body, i = _balanced(text, i, path)
        for item in _split_top(body):
            pm = _PARAM.match(item)
            if pm is None:
                raise HeaderError(f"{path.name}: cannot read parameter {item.strip()!r}")
            params.append((pm.group(1), pm.group(2)))
        i = text.index("(", i) + 1
    else:
        i = text.index("(", i) + 1
    body, _ = _balanced(text, i, path)
    ports: list[PortDecl] = []
    direction: str | None = None
    rng: tuple[str | None, str | None] = (None, None)
    for item in _split_top(body):
        pm = _PORT.match(item)
        if pm is None:
            raise HeaderError(f"{path.name}: cannot read port {item.strip()!r}")
        if pm.group(1):  # a new declaration; a bare name repeats the previous one (SV rule)
            direction = pm.group(1)
            rng = _range(pm.group(2), path) if pm.group(2) else (None, None)
        if direction is None:
            raise HeaderError(f"{path.name}: port {pm.group(3)!r} has no direction")
        ports.append(PortDecl(pm.group(3), direction == "input", *rng))
    end = text.find("endmodule", i)
    body = text[i : end if end >= 0 else len(text)]
    locals_ = tuple((m.group(1), m.group(2).strip()) for m in _LOCALPARAM.finditer(body))
    return Header(module, tuple(params), tuple(ports), locals_)


def _range(text: str, path: Path) -> tuple[str, str]:
    """`msb:lsb` of a packed range, split at the colon outside parentheses (a `?:` inside
    a width expression is parenthesised in every rtl_lib header)."""
    depth = 0
    for j, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == ":" and depth == 0:
            return text[:j].strip(), text[j + 1 :].strip()
    raise HeaderError(f"{path.name}: cannot read the range [{text}]")


def _balanced(text: str, start: int, path: Path) -> tuple[str, int]:
    """The text from `start` up to the ')' closing an already opened '(' and the index after."""
    depth = 1
    for j in range(start, len(text)):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            depth -= 1
            if depth == 0:
                return text[start:j], j + 1
    raise HeaderError(f"{path.name}: unbalanced parentheses in a module header")
