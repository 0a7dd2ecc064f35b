"""Every registered primitive passes `verilator --lint-only -Wall` at its default parameters."""

from __future__ import annotations

import pytest

from accllm.rtl_lib import primitives, sim


@pytest.mark.rtl
@pytest.mark.parametrize("name", sorted(primitives.PRIMITIVES))
def test_lint_clean(name):
    prim = primitives.PRIMITIVES[name]
    sim.lint(prim.source_paths(), prim.top, prim.params)


@pytest.mark.rtl
def test_lint_reports_warnings(tmp_path):
    """The lint helper fails on a width-truncation warning (it does not swallow output)."""
    src = tmp_path / "bad.sv"
    src.write_text(
        "module bad (input logic [7:0] a, output logic [3:0] y);\n  assign y = a;\nendmodule\n"
    )
    with pytest.raises(sim.LintError, match="WIDTH"):
        sim.lint([src], "bad")
