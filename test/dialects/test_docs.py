"""docs/dialects.md is generated from the dialect definitions and covers every op and type."""

from __future__ import annotations

import re

from xdsl.ir import TypeAttribute

from accllm.tools import gen_dialect_docs


def _headings() -> set[str]:
    text = gen_dialect_docs.DOCS_PATH.read_text(encoding="utf-8")
    return set(re.findall(r"^### `([^`]+)`$", text, flags=re.MULTILINE))


def test_reference_is_up_to_date():
    current = gen_dialect_docs.DOCS_PATH.read_text(encoding="utf-8")
    assert current == gen_dialect_docs.render(), (
        "docs/dialects.md is stale: run `python -m accllm.tools.gen_dialect_docs`"
    )


def test_reference_has_a_section_per_op_type_and_attribute():
    headings = _headings()
    missing = []
    for dialect, _ in gen_dialect_docs.load_dialects():
        for op in dialect.operations:
            if op.name not in headings:
                missing.append(op.name)
        for attr in dialect.attributes:
            sigil = "!" if issubclass(attr, TypeAttribute) else "#"
            if f"{sigil}{attr.name}" not in headings:
                missing.append(f"{sigil}{attr.name}")
    assert not missing, f"docs/dialects.md misses {missing}"


def test_check_mode_detects_a_missing_op(tmp_path):
    stale = tmp_path / "dialects.md"
    text = gen_dialect_docs.render()
    stale.write_text(re.sub(r"### `smla.rope`.*?(?=### )", "", text, flags=re.DOTALL))
    assert gen_dialect_docs.main(["--check", "-o", str(stale)]) == 1
    stale.write_text(text)
    assert gen_dialect_docs.main(["--check", "-o", str(stale)]) == 0
