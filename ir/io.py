"""Reading MLIR text into xDSL with source locations, and MLIR-style diagnostics.

Every accllm tool reads IR through here so that they share one behaviour:
- each parsed op gets a `FileLineColLoc` (xDSL leaves ops without a location unless the text
  spells `loc(...)`), so verifier and pass errors can be reported as `file:line:col: error: ...`;
- `--split-input-file` chunks keep their line numbers;
- `--verify-diagnostics` checks `// expected-error {{...}}` annotations the way mlir-opt does.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from xdsl.context import Context
from xdsl.dialects.builtin import FileLineColLoc, IntAttr, ModuleOp, StringAttr, UnknownLoc
from xdsl.ir import Operation
from xdsl.irdl import IRDLOperation
from xdsl.parser import Parser
from xdsl.utils.exceptions import DiagnosticException, ParseError, VerifyException
from xdsl.utils.lexer import Span

from accllm.dialects.accel_module import verify_module_attributes
from accllm.ir.diagnostics import OpError

SPLIT_MARKER = "// -----"


@dataclass
class Diagnostic:
    """One error with a location (file, 1-based line and column)."""

    file: str
    line: int
    col: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.severity}: {self.message}"


class ToolError(Exception):
    """A failure the tool reports as diagnostics and exit code 1."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("\n".join(str(d) for d in diagnostics))
        self.diagnostics = diagnostics


class LocatingParser(Parser):
    """xDSL's parser, recording where each op starts as its location."""

    def parse_operation(self) -> Operation:
        start: Span = self._current_token.span
        try:
            op = super().parse_operation()
        except VerifyException as err:
            # Attribute/type verifiers run while parsing; point at the op being parsed.
            raise ParseError(start, str(err)) from err
        except (ValueError, OverflowError) as err:
            # xDSL builds attributes while parsing and raises these for values the type cannot
            # hold (`dense<[2]> : tensor<1xi1>`, `70000.0 : f16`): input errors, not bugs.
            if isinstance(err, ParseError):
                raise
            raise ParseError(start, f"invalid attribute value: {err}") from err
        if isinstance(op.location, UnknownLoc):
            loc = start.get_location()
            op.location = FileLineColLoc(StringAttr(loc.file), IntAttr(loc.line), IntAttr(loc.col))
        return op


def location_of(op: Operation, fallback_file: str) -> tuple[str, int, int]:
    loc = op.location
    if isinstance(loc, FileLineColLoc):
        return loc.filename.data, loc.line.data, loc.column.data
    return fallback_file, 0, 0


def _first_line(msg: str) -> str:
    return " ".join(msg.strip().split("\n")[0].split()) if msg.strip() else msg


@dataclass
class Chunk:
    """A piece of the input (the whole file unless --split-input-file)."""

    text: str
    name: str
    line_offset: int  # lines before this chunk in the file


def read_input(path: str | None) -> tuple[str, str]:
    """Return (text, name); no path or '-' reads standard input."""
    name = "<stdin>" if path is None or path == "-" else path
    try:
        if name == "<stdin>":
            return sys.stdin.buffer.read().decode("utf-8"), name
        with open(path, "rb") as f:
            return f.read().decode("utf-8"), path
    except OSError as err:
        raise ToolError(
            [Diagnostic(name, 0, 0, f"cannot open input file: {err.strerror}")]
        ) from err
    except UnicodeDecodeError as err:
        raise ToolError(
            [Diagnostic(name, 0, 0, f"input is not UTF-8 text (byte {err.start}: {err.reason})")]
        ) from err


# xDSL 0.74's lexer matches a string literal with `"(?:[^"\\\n\v\f]+|\\(?:...))*"`, a nested
# quantifier that backtracks exponentially when the closing quote is missing or an escape is
# invalid (docs/reliability.md).  This scan finds such literals in linear time (possessive
# quantifiers never backtrack) so that the lexer only ever sees literals it matches at once.
_COMMENT_OR_QUOTE = re.compile(r'//[^\n]*|"')
_STRING_BODY = re.compile(r'(?:[^"\\\n\v\f]++|\\(?:["nt\\]|[0-9A-Fa-f]{2}))*+')


def check_string_literals(text: str, name: str, line_offset: int = 0) -> None:
    """Raise ToolError at the first string literal xDSL's lexer could not match."""
    pos = 0
    while (m := _COMMENT_OR_QUOTE.search(text, pos)) is not None:
        if m.group() != '"':
            pos = m.end()
            continue
        body = _STRING_BODY.match(text, m.end())
        end = body.end()
        if end < len(text) and text[end] == '"':
            pos = end + 1
            continue
        line = text.count("\n", 0, m.start()) + 1
        col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
        if end >= len(text) or text[end] in "\n\v\f":
            why = "string literal is not terminated on its line"
        else:
            why = (
                f"invalid escape '{text[end : end + 2]}' in string literal (valid: \\n \\t "
                '\\\\ \\" and two hex digits)'
            )
        raise ToolError([Diagnostic(name, line + line_offset, col, why)])


def split_chunks(text: str, name: str, split: bool) -> list[Chunk]:
    if not split:
        return [Chunk(text, name, 0)]
    chunks, offset = [], 0
    for piece in re.split(r"^// -----.*$", text, flags=re.MULTILINE):
        chunks.append(Chunk(piece, name, offset))
        offset += piece.count("\n")
    return chunks


def parse_chunk(ctx: Context, chunk: Chunk) -> ModuleOp:
    """Parse one chunk; raise ToolError with a located diagnostic on failure."""
    check_string_literals(chunk.text, chunk.name, chunk.line_offset)
    parser = None
    try:
        # The constructor lexes the first token: its errors are parse errors too.
        parser = LocatingParser(ctx, chunk.text, chunk.name)
        return parser.parse_module()
    except ParseError as err:
        span = err.span
        loc = span.get_location()
        raise ToolError(
            [Diagnostic(loc.file, loc.line + chunk.line_offset, loc.col, _first_line(err.msg))]
        ) from err
    except (ValueError, OverflowError, RecursionError) as err:
        if parser is None:
            line, col = 1, 1
        else:
            loc = parser._current_token.span.get_location()
            line, col = loc.line, loc.col
        msg = "nesting too deep" if isinstance(err, RecursionError) else _first_line(str(err))
        raise ToolError([Diagnostic(chunk.name, line + chunk.line_offset, col, msg)]) from err


def verify_module(module: ModuleOp, chunk: Chunk) -> None:
    """Run xDSL's verifier op by op so that the failing op's location is known.

    First every op's own structure (operands, results, properties of the op definition), then
    the custom verifiers: a verifier that looks at a sibling (a symbol it names, an overlapping
    region) then never meets one with a missing or mistyped property.
    """
    ops = list(module.walk(reverse=True))  # nested ops first, as mlir-opt reports them
    check_dominance(module, chunk)
    for op in ops:
        if isinstance(op, IRDLOperation):
            try:
                op.get_irdl_definition().verify(op)
            except (VerifyException, DiagnosticException) as err:
                raise diagnostic_error(op, str(err).split("\n")[0], chunk) from err
    for op in ops:
        try:
            op.verify(verify_nested_ops=False)
        except (VerifyException, DiagnosticException) as err:
            raise diagnostic_error(op, str(err).split("\n")[0], chunk) from err
    try:
        verify_module_attributes(module)
    except VerifyException as err:
        raise diagnostic_error(module, str(err), chunk) from err


_REDEFINED = re.compile(r'Redefinition of symbol "(.+?)"')


# Regions whose values may be used before their definition (MLIR graph regions).
_GRAPH_REGION_OPS = ("builtin.module", "hw.module")


def check_dominance(module: ModuleOp, chunk: Chunk) -> None:
    """xDSL 0.74's verifier does not check that a value is defined before its use in a block
    (SSA dominance); passes then corrupt such IR.  Report the first use before definition."""
    for parent in module.walk():
        if parent.name in _GRAPH_REGION_OPS:
            continue
        for region in parent.regions:
            for block in region.blocks:
                index = {o: i for i, o in enumerate(block.ops)}
                for o in block.ops:
                    for inner in o.walk():
                        for k, v in enumerate(inner.operands):
                            owner = v.owner
                            if owner in index and index[owner] >= index[o]:
                                raise diagnostic_error(
                                    inner,
                                    f"operand #{k} is used before its definition",
                                    chunk,
                                )


def diagnostic_error(op: Operation, message: str, chunk: Chunk) -> ToolError:
    if isinstance(op, ModuleOp) and (m := _REDEFINED.search(message)):
        # The module's symbol table reports it; point at the second definition instead.
        dups = [o for o in op.ops if _sym_name(o) == m.group(1)]
        if len(dups) > 1:
            return diagnostic_error(dups[1], f"redefinition of symbol '{m.group(1)}'", chunk)
    file, line, col = location_of(op, chunk.name)
    if file == chunk.name and not line:
        line, col = 1, 1  # the implicit top-level module starts with the chunk
    if file == chunk.name:
        line += chunk.line_offset
    return ToolError([Diagnostic(file, line, col, f"'{op.name}' op {message}")])


def _sym_name(op: Operation) -> str | None:
    attr = op.properties.get("sym_name") or op.attributes.get("sym_name")
    return attr.data if isinstance(attr, StringAttr) else None


def run_guarded(chunk: Chunk, action: Callable[[], None]) -> None:
    """Run a pass pipeline (or emitter) turning located exceptions into ToolError."""
    try:
        action()
    except ToolError:
        raise
    except OpError as err:
        raise diagnostic_error(err.op, err.message, chunk) from err
    except (VerifyException, DiagnosticException) as err:
        # No op to point at: the module, i.e. the start of the chunk.
        line = 1 + chunk.line_offset
        raise ToolError([Diagnostic(chunk.name, line, 1, _first_line(str(err)))]) from err


# --- mlir-opt style --verify-diagnostics --------------------------------------------------------

_EXPECT = re.compile(
    r"//\s*expected-(error|warning|remark|note)\s*(@(?:[+-]\d+|above|below))?\s*\{\{(.*?)\}\}"
)


@dataclass
class Expectation:
    severity: str
    line: int  # absolute line in the file
    text: str
    matched: bool = field(default=False)


def expectations(chunk: Chunk) -> list[Expectation]:
    found = []
    for i, line in enumerate(chunk.text.split("\n"), start=1):
        for m in _EXPECT.finditer(line):
            where = m.group(2)
            target = i
            if where in ("@above",):
                target = i - 1
            elif where in ("@below",):
                target = i + 1
            elif where:
                target = i + int(where[1:])
            found.append(Expectation(m.group(1), target + chunk.line_offset, m.group(3)))
    return found


def check_expected(chunk: Chunk, produced: list[Diagnostic]) -> list[str]:
    """Match produced diagnostics against the chunk's annotations; return the mismatches."""
    exp = expectations(chunk)
    problems = []
    for d in produced:
        hit = next(
            (
                e
                for e in exp
                if not e.matched
                and e.severity == d.severity
                and e.line == d.line
                and e.text in d.message
            ),
            None,
        )
        if hit is None:
            problems.append(
                f"{d.file}:{d.line}:{d.col}: error: unexpected {d.severity}: {d.message}"
            )
        else:
            hit.matched = True
    for e in exp:
        if not e.matched:
            problems.append(
                f'{chunk.name}:{e.line}:0: error: expected {e.severity} "{e.text}" was not produced'
            )
    return problems


def iter_chunks(path: str | None, split: bool) -> Iterator[Chunk]:
    text, name = read_input(path)
    yield from split_chunks(text, name, split)
