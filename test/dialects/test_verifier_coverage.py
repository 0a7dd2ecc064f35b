"""Every error the smla/lattn/accel verifiers and parsers can raise has an `expected-error` in a
`*_invalid.mlir` lit test (or, when textual IR cannot reach it, a pytest in this directory or a
reason in PYTHON_ONLY)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "dialects" / n for n in ("smla.py", "lattn.py", "quant_types.py", "accel.py")]
INVALID_TESTS = sorted((ROOT / "test" / "Dialect").glob("*/*_invalid.mlir"))

# Reachable only from Python (the parser accepts just the legal keywords): see
# test_quant_types.py::test_sparsity_rejects_unknown_metadata_when_built_in_python.
PYTHON_ONLY = {
    "sparsity metadata '",
    # accel: a region without the property fails its own (IRDL) verification before any
    # instruction that reads it; textual IR always has a builtin.module; InstructionOp.schedule()
    # is an accessor no verifier calls; a rope head_dim divides length (<= 2^20 - 1) first.
    "' has no integer property '",
    " has no 'kind'",
    "must be nested in a builtin.module",
    "must be inside an accel.schedule",
    "rope head_dim exceeds ",
}


def _message_fragment(arg: ast.expr) -> str:
    """The longest literal piece of a message (f-strings keep only their constant parts)."""
    pieces: list[str] = []
    for node in ast.walk(arg):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            pieces.append(node.value)
    return max(pieces, key=len) if pieces else ""


def raised_messages() -> list[tuple[str, int, str]]:
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            f = node.func
            name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")
            if name in ("VerifyException", "raise_error"):
                found.append((path.name, node.lineno, _message_fragment(node.args[0])))
    return found


def expected_texts() -> list[str]:
    texts = []
    for path in INVALID_TESTS:
        texts += re.findall(r"expected-error[^{]*\{\{(.*?)\}\}", path.read_text(encoding="utf-8"))
    return texts


def test_sources_raise_errors():
    assert len(raised_messages()) > 50  # guards the AST walk itself


def test_every_verifier_error_has_an_invalid_test():
    texts = expected_texts()
    uncovered = []
    for file, line, fragment in raised_messages():
        key = fragment.strip()
        assert key, f"{file}:{line}: message without a literal part"
        if key in PYTHON_ONLY or fragment in PYTHON_ONLY:
            continue
        if not any(key in t for t in texts):
            uncovered.append(f"{file}:{line}: {key!r}")
    assert not uncovered, "errors without an expected-error test:\n" + "\n".join(uncovered)
